import LaneCore

/// A responder's endpoint that alarms are POSTed to, as the collector's settings file names it
/// (`[[webhook]]`). It hears the alarms its scope covers, like a read token of that scope.
public struct Webhook: Sendable, Equatable {
    public var name: String
    public var url: String
    /// The key the body is signed with (HMAC-SHA256); shared with the receiver only.
    public var secret: [UInt8]
    /// `.admin`: every alarm; `.ports`: those that concern one of the ports.
    public var scope: ReadScope
    /// Only these kinds; nil: all.
    public var kinds: Set<Alarm.Kind>?
    /// Extra CA certificates (PEM) the receiver's certificate may chain to.
    public var caFile: String?
    /// Failed attempts before a delivery becomes a dead letter.
    public var maxAttempts: Int

    public init(name: String, url: String, secret: [UInt8], scope: ReadScope = .admin, kinds: Set<Alarm.Kind>? = nil,
                caFile: String? = nil, maxAttempts: Int = 12) {
        self.name = name
        self.url = url
        self.secret = secret
        self.scope = scope
        self.kinds = kinds
        self.caFile = caFile
        self.maxAttempts = maxAttempts
    }

    /// Whether this webhook is to hear of `alarm`.
    public func hears(_ alarm: Alarm) -> Bool {
        guard kinds?.contains(alarm.kind) ?? true else { return false }
        switch scope {
        case .admin: return true
        case .public: return false
        case .ports(let ports): return alarm.ports.contains { ports.contains($0) }
        }
    }
}

/// The `Lanegate-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`.
/// The time is signed with the body, so a receiver that refuses old times cannot be sent a
/// captured request again later.
public enum WebhookSignature {
    public static let header = "Lanegate-Signature"

    public static func sign(_ body: [UInt8], secret: [UInt8], unixSeconds: Int64) -> String {
        "t=\(unixSeconds),v1=\(mac(body, secret: secret, unixSeconds: unixSeconds).lowercaseHex)"
    }

    /// Whether `header` signs `body` with `secret`, at a time within `tolerance` seconds of `now`.
    public static func verify(_ header: String, body: [UInt8], secret: [UInt8], now: Int64, tolerance: Int64 = 300) -> Bool {
        var t: Int64?, v1: String?
        for part in header.split(separator: ",") {
            if part.hasPrefix("t=") { t = Int64(part.dropFirst(2)) }
            if part.hasPrefix("v1=") { v1 = String(part.dropFirst(3)) }
        }
        guard let t, let v1, abs(now - t) <= tolerance else { return false }
        let expected = mac(body, secret: secret, unixSeconds: t).lowercaseHex
        // Compared in full, whatever differs first: the time taken tells nothing.
        guard v1.utf8.count == expected.utf8.count else { return false }
        return zip(v1.utf8, expected.utf8).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func mac(_ body: [UInt8], secret: [UInt8], unixSeconds: Int64) -> [UInt8] {
        Digest.hmacSHA256(key: secret, Array("\(unixSeconds).".utf8) + body)
    }
}
