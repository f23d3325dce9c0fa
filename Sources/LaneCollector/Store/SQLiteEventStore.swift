import Dispatch
import FoundationEssentials
import LaneAnalytics
import LaneCore
import LaneSQLite
import LaneWire
import NIOPosix
import Synchronization

/// The default store: one SQLite file (WAL, `synchronous=FULL`, so an acknowledged batch is on
/// disk). Events are kept as the gateway sent them, one compressed batch per row indexed by
/// gateway and time span (about 15 bytes an event on disk, one row written per batch); queries
/// decode the batches in range and filter their events. One writer thread does all the writing,
/// off the request threads, and commits every batch that arrived meanwhile in one transaction
/// (group commit: one fsync for many batches). Queries use a connection of their own.
public final class SQLiteEventStore: EventStore {
    private let reader: Mutex<Statements>
    private let writer: GroupCommitWriter

    public init(path: String) throws(SQLiteError) {
        let connection = try SQLiteConnection(path: path)
        try connection.execute("""
            PRAGMA busy_timeout = 5000;
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS batches(
                id INTEGER PRIMARY KEY, gateway TEXT NOT NULL, sequence INTEGER NOT NULL, digest BLOB NOT NULL,
                events INTEGER NOT NULL, received_utc_ns INTEGER NOT NULL, first_utc_ns INTEGER NOT NULL,
                last_utc_ns INTEGER NOT NULL, body BLOB NOT NULL, UNIQUE(gateway, sequence));
            CREATE INDEX IF NOT EXISTS batches_by_gateway_time ON batches(gateway, last_utc_ns);
            CREATE INDEX IF NOT EXISTS batches_by_time ON batches(last_utc_ns);
            CREATE TABLE IF NOT EXISTS gateways(
                id TEXT PRIMARY KEY, last_seen_utc_ns INTEGER NOT NULL, last_sequence INTEGER NOT NULL,
                batches INTEGER NOT NULL, events INTEGER NOT NULL, gap_events INTEGER NOT NULL, lost INTEGER NOT NULL,
                backlog INTEGER, clock_sync TEXT NOT NULL, clock_max_error_us INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS devices(
                gateway TEXT NOT NULL, device TEXT NOT NULL, state TEXT NOT NULL, detail TEXT NOT NULL,
                utc_ns INTEGER NOT NULL, PRIMARY KEY(gateway, device)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS tag_visits(
                gateway TEXT NOT NULL, read_point TEXT NOT NULL, tag TEXT NOT NULL, first_utc_ns INTEGER NOT NULL,
                last_utc_ns INTEGER NOT NULL, reads INTEGER NOT NULL, rssi INTEGER NOT NULL, open INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS tag_visits_by_gateway_time ON tag_visits(gateway, first_utc_ns);
            CREATE TABLE IF NOT EXISTS seal_readings(
                gateway TEXT NOT NULL, read_point TEXT NOT NULL, seal TEXT NOT NULL, utc_ns INTEGER NOT NULL,
                status INTEGER NOT NULL, event_count INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS seal_readings_by_time ON seal_readings(utc_ns);
            CREATE INDEX IF NOT EXISTS seal_readings_by_seal ON seal_readings(seal, utc_ns);
            CREATE TABLE IF NOT EXISTS alarms(
                id TEXT PRIMARY KEY, kind TEXT NOT NULL, gateway TEXT NOT NULL, ports TEXT NOT NULL, utc_ns INTEGER NOT NULL,
                raised_utc_ns INTEGER NOT NULL, detail TEXT NOT NULL, acknowledged_by TEXT, acknowledged_utc_ns INTEGER) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS alarms_by_raised ON alarms(raised_utc_ns);
            CREATE TABLE IF NOT EXISTS alarm_deliveries(
                alarm_id TEXT NOT NULL, webhook TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
                next_attempt_utc_ns INTEGER NOT NULL, last_error TEXT, delivered_utc_ns INTEGER,
                PRIMARY KEY(alarm_id, webhook)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS alarm_deliveries_due ON alarm_deliveries(webhook, state, next_attempt_utc_ns);
            CREATE TABLE IF NOT EXISTS gateway_credentials(
                gateway TEXT PRIMARY KEY, token_sha256 BLOB UNIQUE, registered_utc_ns INTEGER NOT NULL) WITHOUT ROWID;
            """)
        let statements = try Statements(connection)
        try statements.indexOlderBatches()
        writer = GroupCommitWriter(statements)
        // The reading connection also registers gateways: it waits for the writer's lock, too.
        let reading = try SQLiteConnection(path: path)
        try reading.execute("PRAGMA busy_timeout = 5000")
        reader = Mutex(try Statements(reading))
    }

    public func store(_ batch: DecodedBatch, body: [UInt8], bodyDigest: [UInt8], receivedUTC: Int64, backlog: Int?) async throws -> StoreOutcome {
        try await writer.submit(StoreRequest(batch: batch, body: body, digest: bodyDigest, receivedUTC: receivedUTC, backlog: backlog))
    }

    public func events(_ query: EventQuery) async throws -> (events: [StoredEvent], resumeAfter: Int64) {
        try await reading { s throws(SQLiteError) in try s.events(query) }
    }

    public func gateways() async throws -> [GatewaySummary] {
        try await reading { s throws(SQLiteError) in try s.gateways() }
    }

    public func tagVisits(gateways: [String], fromUTC: Int64, toUTC: Int64) async throws -> [TagVisit] {
        try await reading { s throws(SQLiteError) in try s.tagVisits(gateways: gateways, from: fromUTC, to: toUTC) }
    }

    public func sealReadings(fromUTC: Int64, toUTC: Int64, seal: String?) async throws -> [SealReading] {
        try await reading { s throws(SQLiteError) in try s.sealReadings(from: fromUTC, to: toUTC, seal: seal) }
    }

    public func lanesWithVehicles(gateways: [String], fromUTC: Int64, toUTC: Int64) async throws -> Set<GatewayLane> {
        try await reading { s throws(SQLiteError) in try s.lanesWithVehicles(gateways: gateways, from: fromUTC, to: toUTC) }
    }

    public func eventCount(gateway: String?) async throws -> Int {
        try await reading { s throws(SQLiteError) in
            let q = try s.connection.prepare("SELECT total(events) FROM batches WHERE ?1 IS NULL OR gateway = ?1")
            if let gateway { try q.bind(1, gateway) } else { try q.bindNull(1) }
            try q.step()
            return Int(q.int64(0))
        }
    }

    public func registeredGateways() async throws -> [GatewayCredential] {
        try await reading { s throws(SQLiteError) in
            let q = try s.connection.prepare("SELECT gateway, token_sha256 FROM gateway_credentials ORDER BY gateway")
            var out: [GatewayCredential] = []
            while try q.step() { out.append(GatewayCredential(gateway: q.text(0), tokenDigest: q.isNull(1) ? nil : q.bytes(1))) }
            return out
        }
    }

    public func register(_ credential: GatewayCredential) async throws {
        let owner = try await reading { s throws(SQLiteError) -> String? in
            try s.connection.transaction { () throws(SQLiteError) -> String? in
                if let digest = credential.tokenDigest {
                    let taken = try s.connection.prepare("SELECT gateway FROM gateway_credentials WHERE token_sha256 = ? AND gateway <> ?")
                    try taken.bind(1, digest)
                    try taken.bind(2, credential.gateway)
                    if let other = try taken.firstRow({ $0.text(0) }) { return other }
                }
                let q = try s.connection.prepare("""
                    INSERT INTO gateway_credentials(gateway, token_sha256, registered_utc_ns) VALUES (?1, ?2, ?3)
                    ON CONFLICT(gateway) DO UPDATE SET token_sha256 = ?2, registered_utc_ns = ?3
                    """)
                try q.bind(1, credential.gateway)
                if let digest = credential.tokenDigest { try q.bind(2, digest) } else { try q.bindNull(2) }
                try q.bind(3, ClockAnchor.now().utcNanoseconds)
                _ = try q.step()
                return nil
            }
        }
        if let owner { throw GatewayRegistryError.tokenTaken(by: owner) }
    }

    public func unregister(gateway: String) async throws -> Bool {
        try await reading { s throws(SQLiteError) in
            let q = try s.connection.prepare("DELETE FROM gateway_credentials WHERE gateway = ?")
            try q.bind(1, gateway)
            _ = try q.step()
            return s.connection.changes > 0
        }
    }

    /// A read on the reading connection, on NIO's thread pool: SQLite blocks, and the
    /// cooperative pool's few threads must not.
    func reading<T: Sendable>(_ read: @escaping @Sendable (Statements) throws(SQLiteError) -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive { [self] in
            try reader.withLock { s throws(SQLiteError) in try read(s) }
        }
    }
}

/// The connection and its prepared statements, used under the store's lock.
final class Statements {
    let connection: SQLiteConnection
    let findBatch: SQLiteStatement
    let insertBatch: SQLiteStatement
    let upsertGateway: SQLiteStatement
    let upsertDevice: SQLiteStatement
    let insertVisit: SQLiteStatement
    let insertSeal: SQLiteStatement

    init(_ connection: SQLiteConnection) throws(SQLiteError) {
        self.connection = connection
        findBatch = try connection.prepare("SELECT digest, events FROM batches WHERE gateway = ? AND sequence = ?")
        insertBatch = try connection.prepare("""
            INSERT INTO batches(gateway, sequence, digest, events, received_utc_ns, first_utc_ns, last_utc_ns, body)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        upsertGateway = try connection.prepare("""
            INSERT INTO gateways(id, last_seen_utc_ns, last_sequence, batches, events, gap_events, lost, backlog,
                                 clock_sync, clock_max_error_us)
            VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9)
            ON CONFLICT(id) DO UPDATE SET
                last_seen_utc_ns = max(last_seen_utc_ns, ?2), last_sequence = max(last_sequence, ?3),
                batches = batches + 1, events = events + ?4, gap_events = gap_events + ?5, lost = lost + ?6,
                backlog = coalesce(?7, backlog), clock_sync = ?8, clock_max_error_us = ?9
            """)
        upsertDevice = try connection.prepare("""
            INSERT INTO devices(gateway, device, state, detail, utc_ns) VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT(gateway, device) DO UPDATE SET state = ?3, detail = ?4, utc_ns = ?5 WHERE ?5 >= utc_ns
            """)
        insertVisit = try connection.prepare("""
            INSERT INTO tag_visits(gateway, read_point, tag, first_utc_ns, last_utc_ns, reads, rssi, open)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insertSeal = try connection.prepare("""
            INSERT INTO seal_readings(gateway, read_point, seal, utc_ns, status, event_count) VALUES (?, ?, ?, ?, ?, ?)
            """)
    }

    /// The border-delay analytics read tag visits by gateway and time, many thousands a query:
    /// each stored batch's visits are indexed in `tag_visits` as it is stored, so that a day
    /// is read as rows instead of decoding every batch. Batches stored before the index
    /// existed (user_version 0) are indexed once, here; so are the seal readings of batches
    /// stored before `seal_readings` existed (user_version 1).
    func indexOlderBatches() throws(SQLiteError) {
        let version = try connection.integer("PRAGMA user_version") ?? 0
        guard version < 2 else { return }
        try connection.transaction { () throws(SQLiteError) in
            let all = try connection.prepare("SELECT gateway, body FROM batches")
            while try all.step() {
                guard let batch = try? BatchDecoder.decode(all.bytes(1)) else { continue }
                let facts = StoredBatch(batch)
                if version < 1 { try indexVisits(facts.visits, gateway: all.text(0)) }
                try indexSeals(facts.seals, gateway: all.text(0))
            }
            try connection.execute("PRAGMA user_version = 2")
        }
    }

    func indexSeals(_ seals: [StoredBatch.SealRow], gateway: String) throws(SQLiteError) {
        for r in seals {
            insertSeal.reset()
            try insertSeal.bind(1, gateway)
            try insertSeal.bind(2, r.readPoint)
            try insertSeal.bind(3, r.seal)
            try insertSeal.bind(4, r.utc)
            try insertSeal.bind(5, Int64(r.status))
            try insertSeal.bind(6, Int64(r.eventCount))
            try insertSeal.step()
        }
    }

    func indexVisits(_ visits: [StoredBatch.VisitRow], gateway: String) throws(SQLiteError) {
        for v in visits {
            insertVisit.reset()
            try insertVisit.bind(1, gateway)
            try insertVisit.bind(2, v.readPoint)
            try insertVisit.bind(3, v.tag)
            try insertVisit.bind(4, v.firstUTC)
            try insertVisit.bind(5, v.lastUTC)
            try insertVisit.bind(6, v.reads)
            try insertVisit.bind(7, v.rssi)
            try insertVisit.bind(8, v.open ? 1 : 0)
            try insertVisit.step()
        }
    }

    /// Stores each request inside one transaction, each under a savepoint of its own so that
    /// one failing batch does not take the others with it.
    func store(_ requests: [StoreRequest]) throws(SQLiteError) -> [Result<StoreOutcome, SQLiteError>] {
        try connection.transaction { () throws(SQLiteError) in
            requests.map { r in
                do throws(SQLiteError) {
                    try connection.execute("SAVEPOINT batch")
                    let outcome = try store(r.batch, body: r.body, digest: r.digest, receivedUTC: r.receivedUTC, backlog: r.backlog)
                    try connection.execute("RELEASE batch")
                    return .success(outcome)
                } catch {
                    try? connection.execute("ROLLBACK TO batch; RELEASE batch")
                    return .failure(error)
                }
            }
        }
    }

    private func store(_ batch: DecodedBatch, body: [UInt8], digest: [UInt8], receivedUTC: Int64, backlog: Int?) throws(SQLiteError) -> StoreOutcome {
        do {
            findBatch.reset()
            try findBatch.bind(1, batch.gatewayID)
            guard let sequence = Int64(exactly: batch.sequence) else {
                throw SQLiteError(code: 25 /* SQLITE_RANGE */, message: "sequence \(batch.sequence) is beyond 64-bit signed range")
            }
            try findBatch.bind(2, sequence)
            if let (stored, events) = try findBatch.firstRow({ ($0.bytes(0), Int($0.int64(1))) }) {
                return stored == digest ? .duplicate(events: events) : .conflict
            }
            let facts = StoredBatch(batch)
            insertBatch.reset()
            try insertBatch.bind(1, batch.gatewayID)
            try insertBatch.bind(2, sequence)
            try insertBatch.bind(3, digest)
            try insertBatch.bind(4, Int64(batch.events.count))
            try insertBatch.bind(5, receivedUTC)
            try insertBatch.bind(6, facts.firstUTC)
            try insertBatch.bind(7, facts.lastUTC)
            try insertBatch.bind(8, body)
            try insertBatch.step()
            try indexVisits(facts.visits, gateway: batch.gatewayID)
            try indexSeals(facts.seals, gateway: batch.gatewayID)
            for d in facts.devices {
                upsertDevice.reset()
                try upsertDevice.bind(1, batch.gatewayID)
                try upsertDevice.bind(2, d.device)
                try upsertDevice.bind(3, d.state)
                try upsertDevice.bind(4, d.detail)
                try upsertDevice.bind(5, d.utc)
                try upsertDevice.step()
            }
            upsertGateway.reset()
            try upsertGateway.bind(1, batch.gatewayID)
            try upsertGateway.bind(2, receivedUTC)
            try upsertGateway.bind(3, sequence)
            try upsertGateway.bind(4, Int64(batch.events.count))
            try upsertGateway.bind(5, Int64(facts.gaps))
            try upsertGateway.bind(6, Int64(clamping: facts.lost))
            if let backlog { try upsertGateway.bind(7, Int64(backlog)) }
            try upsertGateway.bind(8, batch.anchor.sync.name)
            try upsertGateway.bind(9, batch.anchor.maxErrorMicros)
            try upsertGateway.step()
            return .stored(events: batch.events.count)
        }
    }

    /// Walks the batches in range in storage order, decoding each and keeping the events that
    /// match, until the page is complete or `maxBatchesScanned` batches were read.
    func events(_ q: EventQuery, maxBatchesScanned: Int = 20_000) throws(SQLiteError) -> (events: [StoredEvent], resumeAfter: Int64) {
        let select = try connection.prepare("""
            SELECT id, body, received_utc_ns FROM batches
            WHERE id >= ?1 AND (?2 IS NULL OR gateway = ?2) AND (?3 IS NULL OR last_utc_ns >= ?3)
              AND (?4 IS NULL OR first_utc_ns < ?4)
            ORDER BY id LIMIT ?5
            """)
        var page = EventPage(q)
        try select.bind(1, page.firstBatchID)
        if let gateway = q.gateway { try select.bind(2, gateway) } else { try select.bindNull(2) }
        if let from = q.fromUTC { try select.bind(3, from) } else { try select.bindNull(3) }
        if let to = q.toUTC { try select.bind(4, to) } else { try select.bindNull(4) }
        try select.bind(5, Int64(maxBatchesScanned))
        while !page.isComplete, try select.step() {
            page.add(batchID: select.int64(0), body: select.bytes(1), receivedUTC: select.int64(2))
        }
        return (page.events, page.resumeAfter)
    }

    func tagVisits(gateways: [String], from: Int64, to: Int64) throws(SQLiteError) -> [TagVisit] {
        let select = try connection.prepare("""
            SELECT read_point, tag, first_utc_ns, last_utc_ns, reads, rssi, open FROM tag_visits
            WHERE gateway = ?1 AND first_utc_ns >= ?2 AND first_utc_ns < ?3
            """)
        var out: [TagVisit] = []
        for gateway in gateways {
            select.reset()
            try select.bind(1, gateway)
            try select.bind(2, from)
            try select.bind(3, to)
            // Read point names repeat on every row: one String each.
            var places: [String: ReadPlace] = [:]
            while try select.step() {
                let name = select.text(0)
                let place = places[name] ?? ReadPlace(gateway: gateway, readPoint: name)
                places[name] = place
                out.append(TagVisit(tag: select.text(1), place: place, first: select.int64(2), last: select.int64(3),
                                    reads: UInt32(clamping: select.int64(4)), peakRSSI: Int8(clamping: select.int64(5)),
                                    open: select.int64(6) != 0))
            }
        }
        return out
    }

    func sealReadings(from: Int64, to: Int64, seal: String?) throws(SQLiteError) -> [SealReading] {
        let select = try connection.prepare("""
            SELECT gateway, read_point, seal, utc_ns, status, event_count FROM seal_readings
            WHERE utc_ns >= ?1 AND utc_ns < ?2 AND (?3 IS NULL OR seal = ?3)
            """)
        try select.bind(1, from)
        try select.bind(2, to)
        if let seal { try select.bind(3, seal) } else { try select.bindNull(3) }
        var out: [SealReading] = []
        while try select.step() {
            out.append(SealReading(seal: select.text(2), place: ReadPlace(gateway: select.text(0), readPoint: select.text(1)),
                                   utc: select.int64(3), status: UInt8(truncatingIfNeeded: select.int64(4)),
                                   eventCount: UInt16(truncatingIfNeeded: select.int64(5))))
        }
        return out
    }

    func lanesWithVehicles(gateways: [String], from: Int64, to: Int64) throws(SQLiteError) -> Set<GatewayLane> {
        let select = try connection.prepare("""
            SELECT body FROM batches WHERE gateway = ?1 AND last_utc_ns >= ?2 AND first_utc_ns < ?3
            """)
        var out = Set<GatewayLane>()
        for gateway in gateways {
            select.reset()
            try select.bind(1, gateway)
            try select.bind(2, from)
            try select.bind(3, to)
            while try select.step() {
                guard let batch = try? BatchDecoder.decode(select.bytes(0)) else { continue }
                for lane in StoredBatch.vehicleLanes(in: batch, from: from, to: to) { out.insert(GatewayLane(gateway: gateway, lane: lane)) }
            }
        }
        return out
    }

    func gateways() throws(SQLiteError) -> [GatewaySummary] {
        var devices: [String: [String: String]] = [:]
        let d = try connection.prepare("SELECT gateway, device, state FROM devices")
        while try d.step() { devices[d.text(0), default: [:]][d.text(1)] = d.text(2) }
        let g = try connection.prepare("""
            SELECT id, last_seen_utc_ns, last_sequence, batches, events, gap_events, lost, backlog, clock_sync,
                   clock_max_error_us FROM gateways ORDER BY id
            """)
        var out: [GatewaySummary] = []
        while try g.step() {
            out.append(GatewaySummary(
                id: g.text(0), lastSeenUTC: g.int64(1), lastSequence: UInt64(g.int64(2)), batches: Int(g.int64(3)),
                events: Int(g.int64(4)), gapEvents: Int(g.int64(5)), lostReported: UInt64(g.int64(6)),
                backlogReported: g.isNull(7) ? nil : Int(g.int64(7)), clockSync: g.text(8),
                clockMaxErrorMicros: g.int64(9), devices: devices[g.text(0)] ?? [:]))
        }
        return out
    }
}

extension LaneEvent {
    /// The read point, loop or device the event is about, by name.
    func place(naming: some EventNaming) -> String? {
        switch self {
        case .tagArrived(let e): naming.readPointName(e.readPoint)
        case .tagDeparted(let e): naming.readPointName(e.readPoint)
        case .sealSeen(let e): naming.readPointName(e.readPoint)
        case .sealChanged(let e): naming.readPointName(e.readPoint)
        case .sealDeparted(let e): naming.readPointName(e.readPoint)
        case .vehicle(let e): naming.loopName(e.loop)
        case .detectorFault(let e): naming.loopName(e.loop)
        case .deviceStatus(let e): naming.deviceName(e.device)
        case .gap(let e): e.device.map { naming.deviceName($0) }
        case .plateRead(let e): naming.readPointName(e.readPoint)
        case .passage(let e): naming.loopName(e.loop)
        }
    }

    var tagHex: String? {
        switch self {
        case .tagArrived(let e): e.tag.hex
        case .tagDeparted(let e): e.tag.hex
        default: nil
        }
    }
}

struct StoreRequest: Sendable {
    var batch: DecodedBatch
    var body: [UInt8]
    var digest: [UInt8]
    var receivedUTC: Int64
    var backlog: Int?
}

/// The single writer: requests queue up while a transaction runs, and the next transaction
/// takes all of them.
private final class GroupCommitWriter: Sendable {
    private typealias Waiting = (StoreRequest, CheckedContinuation<StoreOutcome, any Error>)
    private let queue = Mutex<[Waiting]>([])
    private let wake = DispatchSemaphore(value: 0)

    init(_ statements: sending Statements) {
        let box = UncheckedBox(statements)
        DedicatedThread(name: "collector-writer") { [self] in run(box.value) }.detach()
    }

    func submit(_ request: StoreRequest) async throws -> StoreOutcome {
        try await withCheckedThrowingContinuation { continuation in
            queue.withLock { $0.append((request, continuation)) }
            wake.signal()
        }
    }

    private func run(_ statements: Statements) {
        while true {
            wake.wait()
            let taken = queue.withLock { waiting -> [Waiting] in
                defer { waiting.removeAll(keepingCapacity: true) }
                return waiting
            }
            if taken.isEmpty { continue }
            do throws(SQLiteError) {
                let results = try statements.store(taken.map(\.0))
                for ((_, continuation), result) in zip(taken, results) { continuation.resume(with: result.mapError { $0 }) }
            } catch {
                for (_, continuation) in taken { continuation.resume(throwing: error) }
            }
        }
    }
}

/// Hands the writer's statements to its thread, which alone uses them from then on.
private final class UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
