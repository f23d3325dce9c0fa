import LaneAnalytics
import LaneCollector
import LaneCore
import LaneWire
import Logging
import NIOCore
import PostgresNIO
import Prometheus
import ServiceLifecycle
import Synchronization

/// The collector's store on PostgreSQL, for several collectors on one database. Exactly once is
/// decided by the database: a batch's (gateway, sequence) key and its content digest are written
/// in the transaction that stores it, and a repeat finds them there whichever collector it
/// reaches. Batches are written in groups (one transaction and a handful of multi-row statements
/// for every batch that arrived meanwhile), each batch still answered on its own.
///
/// Run it as a service (``run()``): it holds the connection pool, the writer and the retention.
public final class PostgresEventStore: EventStore, Service {
    public struct Settings: Sendable {
        /// Connections at most: one writes, the others serve reads.
        public var connections = 8
        /// Drop batches (and their visits) whose day is older than this many days; nil keeps all.
        public var retentionDays: Int?
        /// A batch or a read waits this long at most before the collector answers 503.
        public var deadline: Duration = .seconds(10)
        public init() {}
    }

    public let location: PostgresLocation
    let settings: Settings
    let client: PostgresClient
    let logger: Logger
    let writer: GroupWriter
    let partitions: DayPartitions
    let metrics: PostgresStoreMetrics

    /// `registry` gets the store's metrics (the collector's `/metrics`).
    public init(location: PostgresLocation, settings: Settings = Settings(),
                registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), logger: Logger) {
        self.location = location
        self.settings = settings
        self.logger = logger
        metrics = PostgresStoreMetrics(registry: registry, connections: settings.connections)
        client = PostgresClient(configuration: location.clientConfiguration(connections: settings.connections), backgroundLogger: logger)
        partitions = DayPartitions(client: client, logger: logger)
        writer = GroupWriter(client: client, partitions: partitions, metrics: metrics, logger: logger)
    }

    /// Runs the pool, the writer and the retention until cancelled or shut down (the schema is
    /// checked before, by ``PostgresSchema/check(_:logger:)``). Batches still waiting then are
    /// answered "unavailable": their gateways send them again.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await self.client.run() }
            group.addTask {
                try await cancelWhenGracefulShutdown { try await self.writer.run() }
            }
            group.addTask {
                try? await cancelWhenGracefulShutdown { try await self.maintain() }
            }
        }
    }

    public func store(_ batch: DecodedBatch, body: [UInt8], bodyDigest: [UInt8], receivedUTC: Int64, backlog: Int?) async throws -> StoreOutcome {
        guard let sequence = Int64(exactly: batch.sequence) else {
            throw CollectorSetupError("sequence \(batch.sequence) is beyond 64-bit signed range")
        }
        let facts = StoredBatch(batch)
        let request = WriteRequest(facts: facts, sequence: sequence, body: body, digest: bodyDigest, receivedUTC: receivedUTC,
                                   backlog: backlog, day: DayPartitions.day(firstUTC: facts.firstUTC, receivedUTC: receivedUTC,
                                                                           retentionDays: settings.retentionDays))
        return try await writer.submit(request, deadline: settings.deadline)
    }

    public func events(_ q: EventQuery) async throws -> (events: [StoredEvent], resumeAfter: Int64) {
        try await reading { [logger] connection in
            var page = EventPage(q)
            let rows = try await connection.query("""
                SELECT id, body, received_utc_ns FROM batches
                WHERE id >= \(page.firstBatchID) AND (\(q.gateway)::text IS NULL OR gateway = \(q.gateway))
                  AND (\(q.fromUTC)::bigint IS NULL OR last_utc_ns >= \(q.fromUTC))
                  AND (\(q.toUTC)::bigint IS NULL OR first_utc_ns < \(q.toUTC))
                ORDER BY id LIMIT 20000
                """, logger: logger)
            for try await (id, body, received) in rows.decode((Int64, ByteBuffer, Int64).self) {
                page.add(batchID: id, body: Array(body.readableBytesView), receivedUTC: received)
                if page.isComplete { break }
            }
            return (page.events, page.resumeAfter)
        }
    }

    public func gateways() async throws -> [GatewaySummary] {
        try await reading { [logger] connection in
            var devices: [String: [String: String]] = [:]
            for try await (gateway, device, state) in try await connection.query("SELECT gateway, device, state FROM devices", logger: logger)
                .decode((String, String, String).self) {
                devices[gateway, default: [:]][device] = state
            }
            var out: [GatewaySummary] = []
            let rows = try await connection.query("""
                SELECT id, last_seen_utc_ns, last_sequence, batches, events, gap_events, lost, backlog, clock_sync,
                       clock_max_error_us FROM gateways ORDER BY id
                """, logger: logger)
            for try await (id, seen, sequence, batches, events, gaps, lost, backlog, sync, maxError)
                in rows.decode((String, Int64, Int64, Int64, Int64, Int64, Int64, Int32?, String, Int64).self) {
                out.append(GatewaySummary(
                    id: id, lastSeenUTC: seen, lastSequence: UInt64(clamping: sequence), batches: Int(batches), events: Int(events),
                    gapEvents: Int(gaps), lostReported: UInt64(clamping: lost), backlogReported: backlog.map(Int.init),
                    clockSync: sync, clockMaxErrorMicros: maxError, devices: devices[id] ?? [:]))
            }
            return out
        }
    }

    public func tagVisits(gateways: [String], fromUTC: Int64, toUTC: Int64) async throws -> [TagVisit] {
        try await reading { [logger] connection in
            let rows = try await connection.query("""
                SELECT gateway, read_point, tag, first_utc_ns, last_utc_ns, reads, rssi, open FROM tag_visits
                WHERE gateway = ANY(\(gateways)) AND first_utc_ns >= \(fromUTC) AND first_utc_ns < \(toUTC)
                """, logger: logger)
            // Read point names repeat on every row: one ReadPlace each.
            var places: [ReadPlace: ReadPlace] = [:]
            var out: [TagVisit] = []
            for try await (gateway, readPoint, tag, first, last, reads, rssi, open)
                in rows.decode((String, String, String, Int64, Int64, Int32, Int16, Bool).self) {
                let key = ReadPlace(gateway: gateway, readPoint: readPoint)
                let place = places[key] ?? key
                places[key] = place
                out.append(TagVisit(tag: tag, place: place, first: first, last: last, reads: UInt32(clamping: reads),
                                    peakRSSI: Int8(clamping: rssi), open: open))
            }
            return out
        }
    }

    public func sealReadings(fromUTC: Int64, toUTC: Int64, seal: String?) async throws -> [SealReading] {
        try await reading { [logger] connection in
            let rows = try await connection.query("""
                SELECT gateway, read_point, seal, utc_ns, status, event_count FROM seal_readings
                WHERE utc_ns >= \(fromUTC) AND utc_ns < \(toUTC) AND (\(seal)::text IS NULL OR seal = \(seal))
                """, logger: logger)
            var out: [SealReading] = []
            for try await (gateway, readPoint, seal, utc, status, count)
                in rows.decode((String, String, String, Int64, Int16, Int32).self) {
                out.append(SealReading(seal: seal, place: ReadPlace(gateway: gateway, readPoint: readPoint), utc: utc,
                                       status: UInt8(truncatingIfNeeded: status), eventCount: UInt16(truncatingIfNeeded: count)))
            }
            return out
        }
    }

    public func lanesWithVehicles(gateways: [String], fromUTC: Int64, toUTC: Int64) async throws -> Set<GatewayLane> {
        try await reading { [logger] connection in
            let rows = try await connection.query("""
                SELECT gateway, body FROM batches
                WHERE gateway = ANY(\(gateways)) AND last_utc_ns >= \(fromUTC) AND first_utc_ns < \(toUTC)
                """, logger: logger)
            var out = Set<GatewayLane>()
            for try await (gateway, body) in rows.decode((String, ByteBuffer).self) {
                guard let batch = try? BatchDecoder.decode(Array(body.readableBytesView)) else { continue }
                for lane in StoredBatch.vehicleLanes(in: batch, from: fromUTC, to: toUTC) { out.insert(GatewayLane(gateway: gateway, lane: lane)) }
            }
            return out
        }
    }

    public func eventCount(gateway: String?) async throws -> Int {
        try await reading { [logger] connection in
            var count = 0
            for try await n in try await connection.query(
                "SELECT coalesce(sum(events), 0)::bigint FROM batch_keys WHERE \(gateway)::text IS NULL OR gateway = \(gateway)",
                logger: logger).decode(Int64.self) { count = Int(n) }
            return count
        }
    }

    public func unavailability() async -> String? {
        do {
            return try await withDeadline(.seconds(3), "the database did not answer within 3 s") { [client, logger] in
                _ = try await client.withLiveConnection { try await $0.query("SELECT 1", logger: logger); return true }
                return nil
            }
        } catch {
            return explain(error)
        }
    }

    /// A read (or a transaction) within the deadline; a database that cannot be reached is "unavailable" (503).
    func reading<T: Sendable>(inTransaction: Bool = false,
                              _ read: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await withDeadline(settings.deadline, "the database did not answer within \(settings.deadline)") { [client, logger, metrics] in
                let leases = metrics.connectionsInUse
                return try await inTransaction ? client.withLiveTransaction(logger: logger, leases: leases, read)
                    : client.withLiveConnection(leases: leases, read)
            }
        } catch {
            if isUnavailability(error) { throw StoreUnavailableError(explain(error)) }
            throw error
        }
    }

    /// Hourly: makes sure the partitions of yesterday to the day after tomorrow exist, and
    /// drops those past the retention.
    private func maintain() async throws {
        while true {
            let today = DayPartitions.day(ofUTC: ClockAnchor.now().utcNanoseconds)
            do {
                try await partitions.ensure(Set((today - 1)...(today + 2)))
                if let days = settings.retentionDays { try await partitions.dropOlder(than: today - Int32(clamping: days)) }
            } catch {
                logger.warning("store maintenance failed, will try again in an hour: \(explain(error))")
            }
            try await Task.sleep(for: .seconds(3600))
        }
    }
}

/// Runs `work` and answers with its result, or with ``StoreUnavailableError`` once `limit`
/// has passed; the work goes on in the background then (a write that lands after its 503 is
/// found as a duplicate when the gateway sends it again).
func withDeadline<T: Sendable>(_ limit: Duration, _ message: String,
                               _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    try await firstOf(work) { interrupt in
        Task {
            try? await Task.sleep(for: limit)
            interrupt(StoreUnavailableError(message))
        }
    }
}

/// `work`'s answer, unless the interruption `arm` sets up comes first: then its error, and
/// `work` is cancelled (it may not notice; nothing waits for it any more).
func firstOf<T: Sendable>(_ work: @escaping @Sendable () async throws -> T,
                          interruptedBy arm: (@escaping @Sendable (any Error) -> Void) -> Void) async throws -> T {
    let answer = OnceContinuation<T>()
    return try await withCheckedThrowingContinuation { continuation in
        answer.set(continuation)
        let task = Task { answer.resume(with: await Result { try await work() }) }
        arm { error in if answer.resume(with: .failure(error)) { task.cancel() } }
    }
}

/// A continuation that the first of several parties resumes.
final class OnceContinuation<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)
    func set(_ c: CheckedContinuation<T, any Error>) { continuation.withLock { $0 = c } }
    /// Resumes unless already resumed; says whether this call did.
    @discardableResult
    func resume(with result: Result<T, any Error>) -> Bool {
        guard let c = continuation.withLock({ c -> CheckedContinuation<T, any Error>? in defer { c = nil }; return c }) else { return false }
        c.resume(with: result)
        return true
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
