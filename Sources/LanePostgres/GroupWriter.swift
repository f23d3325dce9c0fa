import LaneCollector
import LaneCore
import LaneWire
import Logging
import NIOCore
import PostgresNIO
import Prometheus
import Synchronization

/// A batch waiting to be written, with what the tables need from it.
struct WriteRequest: Sendable {
    var facts: StoredBatch
    var sequence: Int64
    var body: [UInt8]
    var digest: [UInt8]
    var receivedUTC: Int64
    var backlog: Int?
    /// The day partition it is filed under.
    var day: Int32
    var key: BatchKey { BatchKey(gateway: facts.batch.gatewayID, sequence: sequence) }
}

struct BatchKey: Hashable, Sendable {
    var gateway: String
    var sequence: Int64
}

/// The collector's one writer: batches queue up while a transaction runs, and the next
/// transaction takes all of them (within bounds), with one multi-row statement per table.
/// Transactions hold the writers' advisory lock, so collectors sharing the database write one
/// at a time: batch ids follow commit order, and no two transactions deadlock on a gateway row.
final class GroupWriter: Sendable {
    private typealias Waiting = (request: WriteRequest, answer: OnceContinuation<StoreOutcome>)
    private let queue = Mutex<(waiting: [Waiting], closed: Bool)>(([], false))
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let client: PostgresClient
    private let partitions: DayPartitions
    private let metrics: PostgresStoreMetrics
    private let logger: Logger

    /// One transaction takes at most this much: the statements' arrays stay a few MiB.
    static let maxBatches = 1000
    static let maxEvents = 100_000
    static let maxBodyBytes = 16 << 20

    init(client: PostgresClient, partitions: DayPartitions, metrics: PostgresStoreMetrics, logger: Logger) {
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.client = client
        self.partitions = partitions
        self.metrics = metrics
        self.logger = logger
    }

    /// Queues `request` and waits for its outcome, or for `deadline` to pass (then the batch is
    /// "unavailable" to its sender, though it may still be written: a repeat is a duplicate).
    func submit(_ request: WriteRequest, deadline: Duration) async throws -> StoreOutcome {
        let answer = OnceContinuation<StoreOutcome>()
        return try await withCheckedThrowingContinuation { continuation in
            answer.set(continuation)
            let queued = queue.withLock { q in
                if !q.closed { q.waiting.append((request, answer)) }
                metrics.queuedBatches.set(Double(q.waiting.count))
                return !q.closed
            }
            guard queued else {
                answer.resume(with: .failure(StoreUnavailableError("the collector is shutting down")))
                return
            }
            wake.yield()
            Task {
                try? await Task.sleep(for: deadline)
                answer.resume(with: .failure(StoreUnavailableError("the database did not store the batch within \(deadline)")))
            }
        }
    }

    /// Writes groups until cancelled; then answers what is still queued "unavailable".
    func run() async throws {
        defer {
            let left = queue.withLock { q in
                q.closed = true
                defer { q.waiting = [] }
                return q.waiting
            }
            for w in left { w.answer.resume(with: .failure(StoreUnavailableError("the collector is shutting down"))) }
        }
        for await _ in wakes {
            while let group = take() {
                await write(group)
            }
        }
    }

    /// The next group: queued requests in order, within the bounds, one per batch key (a second
    /// copy of a key waits for the next group, where it meets the first one's key).
    private func take() -> [Waiting]? {
        queue.withLock { q -> [Waiting]? in
            guard !q.waiting.isEmpty else { return nil }
            var group: [Waiting] = [], rest: [Waiting] = [], keys = Set<BatchKey>()
            var events = 0, bytes = 0
            for w in q.waiting {
                let full = group.count == Self.maxBatches || (!group.isEmpty && (events + w.request.facts.batch.events.count > Self.maxEvents
                                                                                  || bytes + w.request.body.count > Self.maxBodyBytes))
                if full || !keys.insert(w.request.key).inserted {
                    rest.append(w)
                    continue
                }
                group.append(w)
                events += w.request.facts.batch.events.count
                bytes += w.request.body.count
            }
            q.waiting = rest
            metrics.queuedBatches.set(Double(rest.count))
            return group
        }
    }

    private func write(_ group: [Waiting]) async {
        logger.debug("writing a group of \(group.count) batches")
        defer { logger.debug("wrote a group of \(group.count) batches") }
        do {
            let started = ContinuousClock.now
            let outcomes = try await store(group.map(\.request))
            metrics.transactions.record(ContinuousClock.now - started)
            metrics.groupBatches.record(Double(group.count))
            for (w, outcome) in zip(group, outcomes) { w.answer.resume(with: .success(outcome)) }
        } catch where isUnavailability(error) {
            let reason = StoreUnavailableError(explain(error))
            logger.warning("store unavailable, \(group.count) batches answered 503: \(reason)")
            for w in group { w.answer.resume(with: .failure(reason)) }
            try? await Task.sleep(for: .milliseconds(200))
        } catch {
            // The database refused a statement, most likely over one batch's content: each batch
            // alone then, so that one cannot take the others with it. A partition another
            // collector's retention dropped would fail the same way: look again.
            partitions.forget()
            guard group.count > 1 else {
                logger.error("batch \(group[0].request.key.sequence) of \(group[0].request.key.gateway) not stored: \(explain(error))")
                group[0].answer.resume(with: .failure(error))
                return
            }
            for w in group { await write([w]) }
        }
    }

    /// Stores a group in one transaction of four round trips (lock, keys, rows, commit, after
    /// BEGIN); the outcome of each request in order.
    private func store(_ requests: [WriteRequest]) async throws -> [StoreOutcome] {
        try await partitions.ensure(Set(requests.map(\.day)))
        return try await client.withLiveTransaction(logger: logger, leases: metrics.connectionsInUse) { [logger] connection in
            // Taken before the keys are read: each statement after it sees every writer's commits.
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.writerLock))", logger: logger)
            // New keys go in; for the others, what the earlier copy was. `k` is read from the
            // statement's snapshot, so it holds only keys stored before this group.
            let keys = try await connection.query("""
                WITH input AS (
                    SELECT * FROM unnest(\(requests.map(\.key.gateway))::text[], \(requests.map(\.sequence))::bigint[],
                                         \(requests.map { ByteBuffer(bytes: $0.digest) })::bytea[],
                                         \(requests.map { Int32($0.facts.batch.events.count) })::integer[],
                                         \(requests.map(\.day))::integer[]) AS u(gateway, sequence, digest, events, day)),
                 added AS (
                    INSERT INTO batch_keys(gateway, sequence, digest, events, day) SELECT * FROM input
                    ON CONFLICT DO NOTHING RETURNING gateway, sequence)
                SELECT i.gateway, i.sequence, a.gateway IS NOT NULL, k.digest, k.events
                FROM input i LEFT JOIN added a USING (gateway, sequence)
                     LEFT JOIN batch_keys k ON k.gateway = i.gateway AND k.sequence = i.sequence
                """, logger: logger)
            var inserted = Set<BatchKey>()
            var earlier: [BatchKey: (digest: [UInt8], events: Int)] = [:]
            for try await (gateway, sequence, isNew, digest, events) in keys.decode((String, Int64, Bool, ByteBuffer?, Int32?).self) {
                let key = BatchKey(gateway: gateway, sequence: sequence)
                if isNew { inserted.insert(key) } else if let digest, let events { earlier[key] = (Array(digest.readableBytesView), Int(events)) }
            }
            let new = requests.filter { inserted.contains($0.key) }
            if !new.isEmpty { try await Self.insert(new, connection, logger) }
            return requests.map { r in
                if inserted.contains(r.key) { return .stored(events: r.facts.batch.events.count) }
                guard let stored = earlier[r.key] else { return .conflict }
                return stored.digest == r.digest ? .duplicate(events: stored.events) : .conflict
            }
        }
    }

    /// The rows of newly stored batches, in one statement: the batches, their visits, their
    /// devices' latest states and their gateways' counters.
    private static func insert(_ new: [WriteRequest], _ connection: PostgresConnection, _ logger: Logger) async throws {
        var visits = VisitColumns()
        for r in new { for v in r.facts.visits { visits.append(v, day: r.day, gateway: r.key.gateway) } }
        var seals = SealColumns()
        for r in new { for v in r.facts.seals { seals.append(v, day: r.day, gateway: r.key.gateway) } }
        // Each device's latest state in the group; the table keeps the latest of all.
        var latest: [BatchDevice: StoredBatch.DeviceState] = [:]
        for r in new {
            for d in r.facts.devices {
                let key = BatchDevice(gateway: r.key.gateway, device: text(d.device))
                if let held = latest[key], held.utc > d.utc { continue }
                latest[key] = d
            }
        }
        let devices = Array(latest)
        var counters: [String: GatewayCounters] = [:]
        for r in new { counters[r.key.gateway, default: GatewayCounters()].add(r) }
        let ids = counters.keys.sorted()
        let c = ids.map { counters[$0]! }
        try await connection.query("""
            WITH batch_rows AS (
                INSERT INTO batches(day, gateway, sequence, events, received_utc_ns, first_utc_ns, last_utc_ns, body)
                SELECT * FROM unnest(\(new.map(\.day))::integer[], \(new.map(\.key.gateway))::text[], \(new.map(\.sequence))::bigint[],
                                     \(new.map { Int32($0.facts.batch.events.count) })::integer[], \(new.map(\.receivedUTC))::bigint[],
                                     \(new.map(\.facts.firstUTC))::bigint[], \(new.map(\.facts.lastUTC))::bigint[],
                                     \(new.map { ByteBuffer(bytes: $0.body) })::bytea[])),
            visit_rows AS (
                INSERT INTO tag_visits(day, gateway, read_point, tag, first_utc_ns, last_utc_ns, reads, rssi, open)
                SELECT * FROM unnest(\(visits.day)::integer[], \(visits.gateway)::text[], \(visits.readPoint)::text[], \(visits.tag)::text[],
                                     \(visits.first)::bigint[], \(visits.last)::bigint[], \(visits.reads)::integer[],
                                     \(visits.rssi)::smallint[], \(visits.open)::boolean[])),
            seal_rows AS (
                INSERT INTO seal_readings(day, gateway, read_point, seal, utc_ns, status, event_count)
                SELECT * FROM unnest(\(seals.day)::integer[], \(seals.gateway)::text[], \(seals.readPoint)::text[], \(seals.seal)::text[],
                                     \(seals.utc)::bigint[], \(seals.status)::smallint[], \(seals.eventCount)::integer[])),
            device_rows AS (
                INSERT INTO devices(gateway, device, state, detail, utc_ns)
                SELECT * FROM unnest(\(devices.map(\.key.gateway))::text[], \(devices.map(\.key.device))::text[],
                                     \(devices.map { text($0.value.state) })::text[], \(devices.map { text($0.value.detail) })::text[],
                                     \(devices.map(\.value.utc))::bigint[])
                ON CONFLICT (gateway, device) DO UPDATE SET state = excluded.state, detail = excluded.detail, utc_ns = excluded.utc_ns
                WHERE excluded.utc_ns >= devices.utc_ns)
            INSERT INTO gateways(id, last_seen_utc_ns, last_sequence, batches, events, gap_events, lost, backlog, clock_sync, clock_max_error_us)
            SELECT g, seen, seq, n, ev, gaps, lost, NULLIF(backlog, -1), sync, err
            FROM unnest(\(ids)::text[], \(c.map(\.lastSeen))::bigint[], \(c.map(\.lastSequence))::bigint[], \(c.map(\.batches))::bigint[],
                        \(c.map(\.events))::bigint[], \(c.map(\.gaps))::bigint[], \(c.map(\.lost))::bigint[], \(c.map(\.backlog))::integer[],
                        \(c.map(\.clockSync))::text[], \(c.map(\.clockMaxError))::bigint[])
                 AS u(g, seen, seq, n, ev, gaps, lost, backlog, sync, err)
            ON CONFLICT (id) DO UPDATE SET
                last_seen_utc_ns = GREATEST(gateways.last_seen_utc_ns, excluded.last_seen_utc_ns),
                last_sequence = GREATEST(gateways.last_sequence, excluded.last_sequence),
                batches = gateways.batches + excluded.batches, events = gateways.events + excluded.events,
                gap_events = gateways.gap_events + excluded.gap_events,
                lost = LEAST(gateways.lost::numeric + excluded.lost, 9223372036854775807)::bigint,
                backlog = coalesce(excluded.backlog, gateways.backlog), clock_sync = excluded.clock_sync,
                clock_max_error_us = excluded.clock_max_error_us
            """, logger: logger)
    }
}

private struct BatchDevice: Hashable {
    var gateway: String
    var device: String
}

/// A group's tag visits, column by column, as `unnest` takes them.
private struct VisitColumns {
    var day: [Int32] = [], gateway: [String] = [], readPoint: [String] = [], tag: [String] = []
    var first: [Int64] = [], last: [Int64] = [], reads: [Int32] = [], rssi: [Int16] = [], open: [Bool] = []

    mutating func append(_ v: StoredBatch.VisitRow, day d: Int32, gateway g: String) {
        day.append(d)
        gateway.append(g)
        readPoint.append(text(v.readPoint))
        tag.append(text(v.tag))
        first.append(v.firstUTC)
        last.append(v.lastUTC)
        reads.append(Int32(clamping: v.reads))
        rssi.append(Int16(clamping: v.rssi))
        open.append(v.open)
    }
}

private struct SealColumns {
    var day: [Int32] = [], gateway: [String] = [], readPoint: [String] = [], seal: [String] = []
    var utc: [Int64] = [], status: [Int16] = [], eventCount: [Int32] = []

    mutating func append(_ r: StoredBatch.SealRow, day d: Int32, gateway g: String) {
        day.append(d)
        gateway.append(g)
        readPoint.append(text(r.readPoint))
        seal.append(r.seal)
        utc.append(r.utc)
        status.append(Int16(r.status))
        eventCount.append(Int32(r.eventCount))
    }
}

/// One gateway's counters over a group, added to its row in one statement.
private struct GatewayCounters {
    var lastSeen = Int64.min, lastSequence = Int64.min, batches: Int64 = 0, events: Int64 = 0, gaps: Int64 = 0, lost: Int64 = 0
    /// The latest backlog a batch of the group reported; -1: none did.
    var backlog: Int32 = -1
    var clockSync = "", clockMaxError: Int64 = 0

    mutating func add(_ r: WriteRequest) {
        lastSeen = max(lastSeen, r.receivedUTC)
        lastSequence = max(lastSequence, r.sequence)
        batches += 1
        events += Int64(r.facts.batch.events.count)
        gaps += Int64(r.facts.gaps)
        let (sum, overflow) = lost.addingReportingOverflow(Int64(clamping: r.facts.lost))
        lost = overflow ? .max : sum
        if let b = r.backlog { backlog = Int32(clamping: max(0, b)) }
        clockSync = r.facts.batch.anchor.sync.name
        clockMaxError = r.facts.batch.anchor.maxErrorMicros
    }
}

/// PostgreSQL's text cannot hold NUL, which a batch's names may: it becomes U+FFFD in the
/// tables (the body keeps the bytes as sent).
func text(_ s: String) -> String {
    guard s.utf8.contains(0) else { return s }
    var scalars = String.UnicodeScalarView()
    for u in s.unicodeScalars { scalars.append(u.value == 0 ? "\u{FFFD}" : u) }
    return String(scalars)
}
