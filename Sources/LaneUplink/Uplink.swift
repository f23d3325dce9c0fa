import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LaneCore
import LaneSpool
import LaneWire
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// Delivers spooled batches to the collector: `POST` with the batch's exact spooled bytes
/// (`Content-Encoding: zstd`), delete on acknowledgement, dead-letter on a 4xx, retry anything
/// else with capped exponential backoff and full jitter.
public final class Uplink: Sendable {
    public let settings: UplinkSettings
    /// What it delivers.
    public let spool: AsyncSpool
    private let client: HTTPClient
    private let logger: Logger
    private let counters = Mutex(UplinkCounters())
    /// `settings.urls`, made once: every delivery picks from it.
    private let collectors: [String]
    /// Which of `collectors` batches go to now; grows by one at each failover.
    private let collectorIndex = Atomic<Int>(0)
    /// When a collector last refused a bundle for its media type (it predates bundles).
    private let bundlesRefusedAt = Mutex<ContinuousClock.Instant?>(nil)

    public init(spool: AsyncSpool, settings: UplinkSettings, logger: Logger = Logger(label: "lanegate.uplink")) throws(UplinkSetupError) {
        collectors = settings.urls
        for url in collectors {
            let lower = url.lowercased()
            guard lower.hasPrefix("https://") || (lower.hasPrefix("http://") && settings.allowPlainHTTP) else {
                throw UplinkSetupError("collector URL \(url): use https:// (plain http needs allow_plain_http = true)")
            }
        }
        var configuration = HTTPClient.Configuration()
        if collectors.contains(where: { $0.lowercased().hasPrefix("https://") }) {
            var tls = TLSConfiguration.makeClientConfiguration()
            do {
                if let ca = settings.caBundle { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca)) }
                if let cert = settings.clientCertificate, let key = settings.clientKey {
                    tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                    tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
                }
            } catch {
                throw UplinkSetupError("TLS files: \(error)")
            }
            configuration.tlsConfiguration = tls
        }
        // A collector that cannot be reached should count as a failed attempt soon, not after
        // the connection pool has retried for long.
        let timeout = TimeAmount.nanoseconds(Int64(settings.requestTimeout.components.seconds) * 1_000_000_000
            + settings.requestTimeout.components.attoseconds / 1_000_000_000)
        configuration.timeout = .init(connect: min(.seconds(10), timeout), read: timeout)
        self.spool = spool
        self.settings = settings
        self.logger = logger
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Closes the HTTP client; call once `run` has returned.
    public func shutdown() async throws { try await client.shutdown() }

    public var statistics: UplinkCounters { counters.withLock { $0 } }

    /// Sends until cancelled: `concurrency` senders share one queue.
    public func run() async {
        let queue = SendQueue(spool: spool)
        let pacer = BacklogPacer(bytesPerSecond: settings.backlogBytesPerSecond)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, settings.concurrency) {
                group.addTask { await self.sender(queue, pacer: pacer) }
            }
        }
    }

    private func sender(_ queue: SendQueue, pacer: BacklogPacer) async {
        var failures = 0
        while !Task.isCancelled {
            let claimed: ([SpooledBatch], SendQueue.Lane)?
            do { claimed = try await queue.claim(upTo: bundling ? settings.batchesPerRequest : 1, maxBytes: bundleBytes) } catch {
                failures += 1
                counters.withLock { $0.recordRetry(error.description) }
                if failures == 1 || failures % 20 == 0 { logger.error("\(error); retrying with backoff") }
                try? await Task.sleep(for: backoff(after: failures))
                continue
            }
            guard let (batches, lane) = claimed else {
                try? await Task.sleep(for: settings.pollInterval)
                continue
            }
            if lane == .backlog, let wait = pacer.reserve(batches.reduce(0) { $0 + $1.body.count }) {
                try? await Task.sleep(for: wait)
            }
            let outcomes = batches.count == 1 ? [await deliver(batches[0])] : await deliver(bundle: batches)
            var retried = false
            for (batch, outcome) in zip(batches, outcomes) {
                switch outcome {
                case .acknowledged:
                    await spool.acknowledge(batch.sequence)
                case .rejected(let status, let reason):
                    logger.error("collector refused batch \(batch.sequence) (\(status)): \(reason); kept as a dead letter")
                    await spool.deadLetter(batch.sequence, status: status, reason: reason, nowUTC: ClockAnchor.now().utcNanoseconds)
                case .retry(let reason):
                    if !retried {
                        counters.withLock { $0.recordRetry(reason) }
                        if failures == 0 || (failures + 1) % 20 == 0 {
                            logger.warning("batch \(batch.sequence) not delivered (\(reason)); retrying with backoff")
                        }
                    }
                    retried = true
                }
            }
            failures = retried ? failures + 1 : 0
            await queue.release(batches.map(\.sequence))
            if failures > 0 { try? await Task.sleep(for: backoff(after: failures)) }
        }
    }

    /// Full jitter: uniform in [0, min(cap, base × 2^(failures-1))].
    func backoff(after failures: Int) -> Duration {
        let bound = min(settings.backoffCap.inSeconds, settings.backoffBase.inSeconds * Double(1 << min(failures - 1, 30)))
        return .milliseconds(Int64(Double.random(in: 0...bound) * 1000))
    }

    /// The collector batches go to now.
    public var currentURL: String { collector(collectorIndex.load(ordering: .relaxed)) }

    private func collector(_ index: Int) -> String { collectors[index % collectors.count] }

    /// One attempt: POST the batch and read the collector's answer. An answer worth a retry
    /// moves the uplink on to the next collector (once, however many senders saw it fail).
    public func deliver(_ batch: SpooledBatch) async -> DeliveryOutcome {
        let index = collectorIndex.load(ordering: .relaxed)
        let outcome = await deliver(batch, to: collector(index))
        if case .retry = outcome { failOver(from: index) }
        return outcome
    }

    /// One batch, its outcome counted once, as its delivery ends, whatever the attempts it took.
    private func deliver(_ batch: SpooledBatch, to url: String) async -> DeliveryOutcome {
        let started = ContinuousClock.now
        var sent = batch
        var (outcome, answered) = await attempt(sent, to: url)
        if let again = await withoutDictionary(batch, refused: outcome, by: url) { (sent, outcome, answered) = again }
        if answered {
            counters.withLock { $0.record(outcome, events: batch.events, bytes: sent.body.count, took: ContinuousClock.now - started) }
        }
        return outcome
    }

    /// A batch compressed with the dictionary and refused goes again at once without it
    /// (compressing is deterministic: the same bytes each time); nil for any other outcome.
    /// - 400, unreadable: a collector older than the dictionary. It stored nothing of the batch,
    ///   so other bytes for the sequence cannot conflict.
    /// - 409, other content: a collector that stored the batch without the dictionary this way
    ///   before an upgrade, its answer lost. Without the dictionary, the batch is a duplicate.
    private func withoutDictionary(_ batch: SpooledBatch, refused outcome: DeliveryOutcome,
                                   by url: String) async -> (sent: SpooledBatch, outcome: DeliveryOutcome, answered: Bool)? {
        guard case .rejected(let status, let reason) = outcome, status == 400 || status == 409,
              let plain = Zstd.withoutDictionary(batch.body) else { return nil }
        logger.notice("collector \(url) refused batch \(batch.sequence) compressed with the zstd dictionary (\(status): \(reason)); sending it without")
        var sent = batch
        sent.body = plain
        let (again, answered) = await attempt(sent, to: url)
        return (sent, again, answered)
    }

    /// One request; `answered` when the collector answered at all (a status, not a lost connection).
    private func attempt(_ batch: SpooledBatch, to url: String) async -> (DeliveryOutcome, answered: Bool) {
        var request = post(to: url, contentType: "application/x-protobuf")
        request.headers.add(name: "Content-Encoding", value: "zstd")
        request.headers.add(name: "Lanegate-Backlog", value: String(await spool.depth))
        request.body = .bytes(ByteBuffer(bytes: batch.body))
        do {
            let response = try await client.execute(request, timeout: .init(settings.requestTimeout))
            heardDictionaries(in: response, from: url)
            let answer = String(buffer: try await response.body.collect(upTo: 64 << 10))
            counters.withLock { $0.requests += 1 }
            return (Self.outcome(status: Int(response.status.code), answer: answer, sequence: batch.sequence), true)
        } catch {
            return (.retry(reason: "\(error)"), false)
        }
    }

    /// A POST to a collector, with this gateway's token when it has one.
    private func post(to url: String, contentType: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        if let token = settings.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        return request
    }

    /// Whether to send bundles: not while a collector that predates them was met lately.
    private var bundling: Bool {
        settings.batchesPerRequest > 1
            && bundlesRefusedAt.withLock { $0.map { ContinuousClock.now - $0 > Self.bundleRetryAfter } ?? true }
    }

    /// A bundle's bytes: under a backlog byte cap at most a tenth of a second's worth, so the
    /// pace stays smooth and a sender waiting on it is free again soon for live batches.
    private var bundleBytes: Int { min(settings.maxRequestBytes, (settings.backlogBytesPerSecond ?? .max) / 10) }

    /// After a collector refused a bundle's media type, how long to send one batch per request
    /// before trying a bundle again (the collectors may have been upgraded meanwhile).
    static let bundleRetryAfter: Duration = .seconds(600)

    /// One attempt for several batches in one request (see `BatchBundle`): an outcome for each,
    /// in order. Only an answer for every batch is taken; a bundle is never refused for good as a
    /// whole, so a 4xx for the request sends its batches one by one at once, each to its own answer.
    public func deliver(bundle batches: [SpooledBatch]) async -> [DeliveryOutcome] {
        let index = collectorIndex.load(ordering: .relaxed)
        var request = post(to: collector(index), contentType: BatchBundle.contentType)
        request.headers.add(name: "Accept-Encoding", value: "zstd")
        request.headers.add(name: "Lanegate-Backlog", value: String(await spool.depth))
        request.body = .bytes(ByteBuffer(bytes: BatchBundle.encode(batches.lazy.map(\.body))))
        let started = ContinuousClock.now
        var outcomes: [DeliveryOutcome]
        do {
            let response = try await client.execute(request, timeout: .init(settings.requestTimeout))
            heardDictionaries(in: response, from: collector(index))
            let answer = try await Self.text(of: response)
            let status = Int(response.status.code)
            counters.withLock { $0.requests += 1 }
            switch status {
            case 200..<300: outcomes = Self.outcomes(bundleAnswer: answer, for: batches)
            case 408, 429, 500...: outcomes = Array(repeating: .retry(reason: "status \(status)"), count: batches.count)
            default:
                if status == 415 {
                    bundlesRefusedAt.withLock { $0 = .now }
                    logger.notice("collector \(collector(index)) does not take bundles (415); sending one batch per request")
                }
                var singles: [DeliveryOutcome] = []
                for batch in batches { singles.append(await deliver(batch)) }
                return singles
            }
        } catch {
            outcomes = Array(repeating: .retry(reason: "\(error)"), count: batches.count)
        }
        // Refused with the dictionary: by a collector older than it, or one that stored it without.
        var sent = batches
        for i in batches.indices {
            if let again = await withoutDictionary(batches[i], refused: outcomes[i], by: collector(index)) {
                (sent[i], outcomes[i]) = (again.sent, again.outcome)
            }
        }
        let took = ContinuousClock.now - started
        counters.withLock { counters in
            for (batch, outcome) in zip(sent, outcomes) {
                counters.record(outcome, events: batch.events, bytes: batch.body.count, took: took)
            }
        }
        if outcomes.contains(where: { if case .retry = $0 { true } else { false } }) { failOver(from: index) }
        return outcomes
    }

    /// Tells the encoder (through `DictionaryUse`) whether the collector that answered reads the
    /// current zstd dictionary. Only answers the collector itself gave count: a proxy's error page
    /// says nothing of it.
    private func heardDictionaries(in response: HTTPClientResponse, from url: String) {
        guard let use = settings.dictionaryUse, (200..<300).contains(Int(response.status.code)) else { return }
        let header = response.headers.first(name: ZstdDictionary.announcementHeader)
        guard use.collectorAnswered(announcing: header) else { return }
        let id = ZstdDictionary.current.id
        if use.dictionary != nil {
            logger.info("collector \(url) reads zstd dictionary \(id): batches are compressed with it from now on")
        } else {
            logger.notice("collector \(url) does not announce zstd dictionary \(id): batches go without it from now on")
        }
    }

    /// Moves on to the next collector after an attempt at collector `index` must be retried;
    /// once, however many senders saw that collector fail.
    private func failOver(from index: Int) {
        guard collectors.count > 1,
              collectorIndex.compareExchange(expected: index, desired: index &+ 1, ordering: .relaxed).exchanged else { return }
        logger.notice("failing over to collector \(currentURL)")
    }

    /// A response's body as text, decompressed when the collector compressed it.
    private static func text(of response: HTTPClientResponse) async throws -> String {
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.headers.first(name: "Content-Encoding")?.lowercased() == "zstd" else { return String(buffer: body) }
        return String(decoding: try Zstd.decompress(Array(body.readableBytesView), limit: 1 << 20), as: UTF8.self)
    }

    /// Each batch's outcome from a bundle's answer; all retried when the answer is not one
    /// result per batch, in order.
    static func outcomes(bundleAnswer answer: String, for batches: [SpooledBatch]) -> [DeliveryOutcome] {
        guard let decoded = try? JSONDecoder().decode(BundleAcknowledgement.self, from: Data(answer.utf8)),
              decoded.results.count == batches.count else {
            return Array(repeating: .retry(reason: "a bundle's answer without a result for each of its \(batches.count) batches"),
                         count: batches.count)
        }
        return zip(batches, decoded.results).map { batch, result in
            switch result.status {
            case "stored", "duplicate":
                guard result.sequence == batch.sequence else {
                    return .retry(reason: "a bundle's answer acknowledges \(result.sequence.map(String.init) ?? "nothing") for \(batch.sequence)")
                }
                return .acknowledged
            case "refused":
                guard let code = result.code, (400..<500).contains(code), code != 408, code != 429,
                      result.sequence == nil || result.sequence == batch.sequence else {
                    return .retry(reason: "refused without a 4xx status for \(batch.sequence)")
                }
                return .rejected(status: code, reason: String((result.error ?? "").prefix(500)))
            default:
                return .retry(reason: result.error.map { String($0.prefix(200)) } ?? "no acknowledgement of \(batch.sequence) in a bundle's answer")
            }
        }
    }

    /// Asks the collector whether it knows this gateway, storing nothing: an empty POST without
    /// zstd encoding, which a collector refuses for its encoding (415) only after it has
    /// accepted the gateway's identity (a refused identity is 401 or 403).
    public func checkIdentity(at url: String? = nil) async -> IdentityCheck {
        let request = post(to: url ?? settings.url, contentType: "application/x-protobuf")
        do {
            let response = try await client.execute(request, timeout: .init(settings.requestTimeout))
            let answer = String(buffer: try await response.body.collect(upTo: 64 << 10))
            switch response.status.code {
            case 415: return .accepted
            case 401, 403: return .refused(status: Int(response.status.code), reason: answer)
            default: return .unexpected(status: Int(response.status.code), answer: String(answer.prefix(300)))
            }
        } catch {
            return .unreachable("\(error)")
        }
    }

    public enum IdentityCheck: Sendable, Equatable {
        case accepted
        case refused(status: Int, reason: String)
        case unexpected(status: Int, answer: String)
        case unreachable(String)
    }

    static func outcome(status: Int, answer: String, sequence: UInt64) -> DeliveryOutcome {
        switch status {
        case 200..<300:
            // The acknowledgement must be one, for this batch; anything else (a proxy's page, a
            // different sequence, a body that merely contains the number) is not.
            guard let ack = try? JSONDecoder().decode(Acknowledgement.self, from: Data(answer.utf8)),
                  ack.sequence == sequence, ack.status == "stored" || ack.status == "duplicate" else {
                return .retry(reason: "status \(status) without an acknowledgement of \(sequence)")
            }
            return .acknowledged
        case 408, 429: return .retry(reason: "status \(status)")
        case 400..<500: return .rejected(status: status, reason: String(answer.prefix(500)))
        default: return .retry(reason: "status \(status)")
        }
    }
}

/// The collector's answer to a stored batch: `{"gateway":…,"sequence":…,"status":…,"events":…}`.
struct Acknowledgement: Decodable {
    var sequence: UInt64
    var status: String
}

/// The collector's answer to a bundle: `{"gateway":…,"results":[…]}`, one per batch, in order.
struct BundleAcknowledgement: Decodable {
    struct Result: Decodable {
        var sequence: UInt64?
        var status: String
        var code: Int?
        var error: String?
    }
    var results: [Result]
}

/// What the uplink has done, for status lines and metrics.
public struct UplinkCounters: Sendable {
    public var acknowledged = 0
    public var rejected = 0
    public var retries = 0
    public var eventsDelivered = 0
    public var bytesDelivered = 0
    /// Requests the collector answered, with whatever status: with bundles, fewer than batches.
    public var requests = 0
    public var lastLatency: Duration?
    /// Every acknowledged delivery's latency, request to answer.
    public var latencies = LatencyHistogram()
    /// When the collector last acknowledged a batch.
    public var lastAcknowledgedAt: ContinuousClock.Instant?
    /// The last failed delivery: why, and when. The link is down while it is newer than the last acknowledgement.
    public var lastFailure: (reason: String, at: ContinuousClock.Instant)?

    mutating func recordRetry(_ reason: String) {
        retries += 1
        lastFailure = (reason, .now)
    }

    mutating func record(_ outcome: DeliveryOutcome, events: Int, bytes: Int, took: Duration) {
        switch outcome {
        case .acknowledged:
            acknowledged += 1
            eventsDelivered += events
            bytesDelivered += bytes
            lastLatency = took
            latencies.record(took)
            lastAcknowledgedAt = .now
        case .rejected: rejected += 1
        case .retry: break
        }
    }
}

public struct UplinkSetupError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A token bucket for backlog bytes: live and priority batches never wait for it.
final class BacklogPacer: Sendable {
    private let bytesPerSecond: Int?
    private let nextFree = Mutex(ContinuousClock.now)

    init(bytesPerSecond: Int?) { self.bytesPerSecond = bytesPerSecond }

    /// Books `bytes` and says how long to wait before sending them; nil when there is no cap.
    func reserve(_ bytes: Int) -> Duration? {
        guard let rate = bytesPerSecond, rate > 0 else { return nil }
        return nextFree.withLock { next in
            let now = ContinuousClock.now
            let start = max(next, now)
            next = start + .nanoseconds(Int64(bytes) * 1_000_000_000 / Int64(rate))
            return start - now
        }
    }
}

extension Duration {
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
