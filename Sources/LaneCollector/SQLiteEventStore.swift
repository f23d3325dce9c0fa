import LaneCore
import LaneSQLite
import LaneWire
import Synchronization

/// The default store: one SQLite file (WAL, `synchronous=FULL`, so an acknowledged batch is on
/// disk). Writes are serialized; each batch is one transaction.
public final class SQLiteEventStore: EventStore {
    private let state: Mutex<Statements>

    public init(path: String) throws(SQLiteError) {
        let connection = try SQLiteConnection(path: path)
        try connection.execute("""
            PRAGMA busy_timeout = 5000;
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS batches(
                gateway TEXT NOT NULL, sequence INTEGER NOT NULL, digest BLOB NOT NULL, events INTEGER NOT NULL,
                received_utc_ns INTEGER NOT NULL, PRIMARY KEY(gateway, sequence)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS events(
                id INTEGER PRIMARY KEY, gateway TEXT NOT NULL, sequence INTEGER NOT NULL, idx INTEGER NOT NULL,
                type TEXT NOT NULL, lane TEXT, place TEXT, tag TEXT, utc_ns INTEGER NOT NULL,
                boot_id TEXT NOT NULL, json TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS events_by_gateway_time ON events(gateway, utc_ns);
            CREATE INDEX IF NOT EXISTS events_by_time ON events(utc_ns);
            CREATE TABLE IF NOT EXISTS gateways(
                id TEXT PRIMARY KEY, last_seen_utc_ns INTEGER NOT NULL, last_sequence INTEGER NOT NULL,
                batches INTEGER NOT NULL, events INTEGER NOT NULL, gap_events INTEGER NOT NULL, lost INTEGER NOT NULL,
                backlog INTEGER, clock_sync TEXT NOT NULL, clock_max_error_us INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS devices(
                gateway TEXT NOT NULL, device TEXT NOT NULL, state TEXT NOT NULL, detail TEXT NOT NULL,
                utc_ns INTEGER NOT NULL, PRIMARY KEY(gateway, device)) WITHOUT ROWID;
            """)
        state = Mutex(try Statements(connection))
    }

    public func store(_ batch: DecodedBatch, bodyDigest: [UInt8], receivedUTC: Int64, backlog: Int?) throws -> StoreOutcome {
        try state.withLock { s throws(SQLiteError) in try s.store(batch, digest: bodyDigest, receivedUTC: receivedUTC, backlog: backlog) }
    }

    public func events(_ query: EventQuery) throws -> [StoredEvent] {
        try state.withLock { s throws(SQLiteError) in try s.events(query) }
    }

    public func gateways() throws -> [GatewaySummary] {
        try state.withLock { s throws(SQLiteError) in try s.gateways() }
    }

    public func eventCount(gateway: String?) throws -> Int {
        try state.withLock { s throws(SQLiteError) in
            let q = try s.connection.prepare("SELECT count(*) FROM events WHERE ?1 IS NULL OR gateway = ?1")
            if let gateway { try q.bind(1, gateway) } else { try q.bindNull(1) }
            try q.step()
            return Int(q.int64(0))
        }
    }
}

/// The connection and its prepared statements, used under the store's lock.
private final class Statements {
    let connection: SQLiteConnection
    let findBatch: SQLiteStatement
    let insertBatch: SQLiteStatement
    let insertEvent: SQLiteStatement
    let upsertGateway: SQLiteStatement
    let upsertDevice: SQLiteStatement

    init(_ connection: SQLiteConnection) throws(SQLiteError) {
        self.connection = connection
        findBatch = try connection.prepare("SELECT digest, events FROM batches WHERE gateway = ? AND sequence = ?")
        insertBatch = try connection.prepare(
            "INSERT INTO batches(gateway, sequence, digest, events, received_utc_ns) VALUES (?, ?, ?, ?, ?)")
        insertEvent = try connection.prepare("""
            INSERT INTO events(gateway, sequence, idx, type, lane, place, tag, utc_ns, boot_id, json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
    }

    func store(_ batch: DecodedBatch, digest: [UInt8], receivedUTC: Int64, backlog: Int?) throws(SQLiteError) -> StoreOutcome {
        try connection.transaction { () throws(SQLiteError) -> StoreOutcome in
            findBatch.reset()
            try findBatch.bind(1, batch.gatewayID)
            try findBatch.bind(2, Int64(batch.sequence))
            if try findBatch.step() {
                let events = Int(findBatch.int64(1))
                return findBatch.bytes(0) == digest ? .duplicate(events: events) : .conflict
            }
            insertBatch.reset()
            try insertBatch.bind(1, batch.gatewayID)
            try insertBatch.bind(2, Int64(batch.sequence))
            try insertBatch.bind(3, digest)
            try insertBatch.bind(4, Int64(batch.events.count))
            try insertBatch.bind(5, receivedUTC)
            try insertBatch.step()

            var gaps = 0, lost: UInt64 = 0
            for (index, event) in batch.events.enumerated() {
                let utc = batch.anchor.utcNanoseconds(at: event.time)
                let place = event.place(naming: batch)
                insertEvent.reset()
                try insertEvent.bind(1, batch.gatewayID)
                try insertEvent.bind(2, Int64(batch.sequence))
                try insertEvent.bind(3, Int64(index))
                try insertEvent.bind(4, event.typeName)
                if let place {
                    if let slash = place.firstIndex(of: "/") { try insertEvent.bind(5, String(place[..<slash])) }
                    try insertEvent.bind(6, place)
                }
                if let tag = event.tagHex { try insertEvent.bind(7, tag) }
                try insertEvent.bind(8, utc)
                try insertEvent.bind(9, batch.bootID)
                try insertEvent.bind(10, event.json(naming: batch))
                try insertEvent.step()
                switch event {
                case .gap(let g):
                    gaps += 1
                    lost += g.lost
                case .deviceStatus(let d):
                    upsertDevice.reset()
                    try upsertDevice.bind(1, batch.gatewayID)
                    try upsertDevice.bind(2, batch.deviceName(d.device))
                    try upsertDevice.bind(3, d.state.name)
                    try upsertDevice.bind(4, d.detail)
                    try upsertDevice.bind(5, utc)
                    try upsertDevice.step()
                default: break
                }
            }
            upsertGateway.reset()
            try upsertGateway.bind(1, batch.gatewayID)
            try upsertGateway.bind(2, receivedUTC)
            try upsertGateway.bind(3, Int64(batch.sequence))
            try upsertGateway.bind(4, Int64(batch.events.count))
            try upsertGateway.bind(5, Int64(gaps))
            try upsertGateway.bind(6, Int64(clamping: lost))
            if let backlog { try upsertGateway.bind(7, Int64(backlog)) }
            try upsertGateway.bind(8, batch.anchor.sync.name)
            try upsertGateway.bind(9, batch.anchor.maxErrorMicros)
            try upsertGateway.step()
            return .stored(events: batch.events.count)
        }
    }

    func events(_ q: EventQuery) throws(SQLiteError) -> [StoredEvent] {
        let select = try connection.prepare("""
            SELECT id, gateway, sequence, utc_ns, json FROM events
            WHERE id > ?1 AND (?2 IS NULL OR gateway = ?2) AND (?3 IS NULL OR lane = ?3) AND (?4 IS NULL OR place = ?4)
              AND (?5 IS NULL OR type = ?5) AND (?6 IS NULL OR utc_ns >= ?6) AND (?7 IS NULL OR utc_ns < ?7)
            ORDER BY id LIMIT ?8
            """)
        try select.bind(1, q.after)
        for (i, text) in [(2, q.gateway), (3, q.lane), (4, q.place), (5, q.type)] {
            if let text { try select.bind(Int32(i), text) } else { try select.bindNull(Int32(i)) }
        }
        if let from = q.fromUTC { try select.bind(6, from) } else { try select.bindNull(6) }
        if let to = q.toUTC { try select.bind(7, to) } else { try select.bindNull(7) }
        try select.bind(8, Int64(q.limit))
        var out: [StoredEvent] = []
        while try select.step() {
            out.append(StoredEvent(id: select.int64(0), gateway: select.text(1), sequence: UInt64(select.int64(2)),
                                   utcNanoseconds: select.int64(3), json: select.text(4)))
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
