import LaneSpool
import LaneWire

/// Where and how batches go.
public struct UplinkSettings: Sendable {
    /// The collector's batch endpoint, e.g. `https://collector.example:8443/v1/batches`.
    public var url: String
    /// Other collectors' endpoints (on one shared database), for failover: an attempt that
    /// must be retried moves the uplink on to the next URL in `urls`, and it stays there while
    /// that collector answers. With a load balancer in front of the collectors, one URL is enough.
    public var fallbackURLs: [String] = []
    /// Every collector, in the order the uplink tries them.
    public var urls: [String] { [url] + fallbackURLs }
    /// Bearer token identifying this gateway (when the collector does not use client certificates).
    public var token: String?
    /// PEM files: the CA bundle that signs the collector's certificate, and this gateway's
    /// client certificate and key for mutual TLS.
    public var caBundle: String?
    public var clientCertificate: String?
    public var clientKey: String?
    /// Plain HTTP is refused unless this is set (tests, lab benches).
    public var allowPlainHTTP: Bool
    /// Requests in flight at once: more drains a backlog faster.
    public var concurrency: Int
    public var requestTimeout: Duration
    /// Retry delays grow from `backoffBase`, doubling, up to `backoffCap`, each drawn uniformly
    /// below the current bound (full jitter), so a fleet coming back does not arrive in step.
    public var backoffBase: Duration
    public var backoffCap: Duration
    /// Cap on backlog bytes per second (live batches are never held back); nil: no cap.
    public var backlogBytesPerSecond: Int?
    /// How often to look for new batches when idle.
    public var pollInterval: Duration
    /// When several batches wait, up to this many go in one request (a bundle), each with its
    /// own answer: a draining backlog pays one request's framing for all of them. 1: never.
    public var batchesPerRequest = 64
    /// A bundle's batches hold at most this many bytes (the collector takes 4 MiB a request).
    public var maxRequestBytes = 1 << 20
    /// Told of each collector answer's dictionary announcement; the encoder reads it.
    public var dictionaryUse: DictionaryUse?

    public init(url: String, token: String? = nil, caBundle: String? = nil, clientCertificate: String? = nil,
                clientKey: String? = nil, allowPlainHTTP: Bool = false, concurrency: Int = 4,
                requestTimeout: Duration = .seconds(30), backoffBase: Duration = .milliseconds(500),
                backoffCap: Duration = .seconds(60), backlogBytesPerSecond: Int? = nil,
                pollInterval: Duration = .milliseconds(200)) {
        self.url = url
        self.token = token
        self.caBundle = caBundle
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.allowPlainHTTP = allowPlainHTTP
        self.concurrency = concurrency
        self.requestTimeout = requestTimeout
        self.backoffBase = backoffBase
        self.backoffCap = backoffCap
        self.backlogBytesPerSecond = backlogBytesPerSecond
        self.pollInterval = pollInterval
    }
}

/// What one attempt to deliver a batch came to.
public enum DeliveryOutcome: Sendable, Equatable {
    /// The collector stored it (or had already: a duplicate is acknowledged the same way).
    case acknowledged
    /// Refused for good (4xx): the batch goes to the dead letters, never retried.
    case rejected(status: Int, reason: String)
    /// Worth another try later: 5xx, 408, 429, timeouts, connection errors.
    case retry(reason: String)
}
