import LaneCore
import LaneSQLite

/// The spool's SQLite file: schema, statements and the running totals. Owned by ``Spool``,
/// which serializes every call.
final class SpoolStore {
    let connection: SQLiteConnection
    private(set) var storedBytes: Int64 = 0
    private(set) var storedBatches = 0
    private(set) var storedEvents = 0
    private(set) var nextSequence: UInt64 = 1
    /// The file was created by this open.
    private(set) var created = false
    private let durability: SpoolDurability

    private let insertBatch: SQLiteStatement
    private let deleteBatch: SQLiteStatement
    private let selectAfter: SQLiteStatement
    private let selectSequences: SQLiteStatement
    private let selectPrioritySequences: SQLiteStatement
    private let selectOne: SQLiteStatement
    private let insertJournal: SQLiteStatement
    private let setMeta: SQLiteStatement

    static let formatVersion: Int64 = 1

    /// Opens or creates the spool file and checks it is a spool of this gateway.
    init(path: String, gatewayID: String, durability: SpoolDurability) throws(SQLiteError) {
        connection = try SQLiteConnection(path: path)
        self.durability = durability
        try connection.execute("""
            PRAGMA busy_timeout = 5000;
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL");
            PRAGMA wal_autocheckpoint = 256;
            PRAGMA journal_size_limit = 4194304;
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value ANY) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS batches(
                sequence INTEGER PRIMARY KEY, priority INTEGER NOT NULL, events INTEGER NOT NULL,
                created_utc_ns INTEGER NOT NULL, body BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS batches_by_priority ON batches(priority, sequence);
            CREATE TABLE IF NOT EXISTS journal(
                id INTEGER PRIMARY KEY, events INTEGER NOT NULL, created_utc_ns INTEGER NOT NULL, body BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS dead_letters(
                sequence INTEGER PRIMARY KEY, status INTEGER NOT NULL, reason TEXT NOT NULL,
                at_utc_ns INTEGER NOT NULL, events INTEGER NOT NULL, body BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS losses(
                reason INTEGER PRIMARY KEY, batches INTEGER NOT NULL, events INTEGER NOT NULL);
            """)
        insertBatch = try connection.prepare(
            "INSERT INTO batches(sequence, priority, events, created_utc_ns, body) VALUES (?, ?, ?, ?, ?)")
        deleteBatch = try connection.prepare("DELETE FROM batches WHERE sequence = ? RETURNING events, length(body)")
        selectAfter = try connection.prepare(
            "SELECT sequence, priority, events, created_utc_ns, body FROM batches WHERE sequence > ? ORDER BY sequence LIMIT ?")
        selectSequences = try connection.prepare("SELECT sequence FROM batches WHERE sequence > ? ORDER BY sequence LIMIT ?")
        selectPrioritySequences = try connection.prepare(
            "SELECT sequence FROM batches WHERE priority = 1 AND sequence > ? ORDER BY sequence LIMIT ?")
        selectOne = try connection.prepare(
            "SELECT sequence, priority, events, created_utc_ns, body FROM batches WHERE sequence = ?")
        insertJournal = try connection.prepare("INSERT INTO journal(events, created_utc_ns, body) VALUES (?, ?, ?)")
        setMeta = try connection.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)")

        try connection.transaction { () throws(SQLiteError) in
            if let owner = try connection.text("SELECT value FROM meta WHERE key = 'gateway_id'") {
                guard owner == gatewayID else {
                    throw SQLiteError.foreign("the spool belongs to gateway \"\(owner)\", not \"\(gatewayID)\"")
                }
                let format = try connection.integer("SELECT value FROM meta WHERE key = 'format'") ?? 0
                guard format == Self.formatVersion else {
                    throw SQLiteError.foreign("spool format \(format) is not the supported \(Self.formatVersion)")
                }
            } else {
                created = true
                try meta("gateway_id", gatewayID)
                try meta("format", Self.formatVersion)
                try meta("next_sequence", 1)
            }
        }
        nextSequence = UInt64(max(1, try connection.integer("SELECT value FROM meta WHERE key = 'next_sequence'") ?? 1))
        try recount()
    }

    func recount() throws(SQLiteError) {
        let totals = try connection.prepare("SELECT count(*), total(events), total(length(body)) FROM batches")
        try totals.step()
        storedBatches = Int(totals.int64(0))
        storedEvents = Int(totals.int64(1))
        storedBytes = totals.int64(2)
    }

    func meta(_ key: String, _ value: Int64) throws(SQLiteError) {
        setMeta.reset()
        try setMeta.bind(1, key)
        try setMeta.bind(2, value)
        try setMeta.step()
    }

    func meta(_ key: String, _ value: String) throws(SQLiteError) {
        setMeta.reset()
        try setMeta.bind(1, key)
        try setMeta.bind(2, value)
        try setMeta.step()
    }

    /// Moves the sequence counter forward (never back).
    func advanceSequence(to next: UInt64) throws(SQLiteError) {
        guard next > nextSequence else { return }
        try meta("next_sequence", Int64(next))
        nextSequence = next
    }

    // MARK: batches

    /// Inserts a batch; the caller holds the transaction.
    func insert(_ batch: SpooledBatch) throws(SQLiteError) {
        insertBatch.reset()
        try insertBatch.bind(1, Int64(batch.sequence))
        try insertBatch.bind(2, batch.priority ? 1 : 0)
        try insertBatch.bind(3, Int64(batch.events))
        try insertBatch.bind(4, batch.createdUTC)
        try insertBatch.bind(5, batch.body)
        try insertBatch.step()
        storedBatches += 1
        storedEvents += batch.events
        storedBytes += Int64(batch.body.count)
    }

    /// Deletes a batch; returns its event count, or nil when it was not there.
    @discardableResult
    func delete(_ sequence: UInt64) throws(SQLiteError) -> Int? {
        deleteBatch.reset()
        try deleteBatch.bind(1, Int64(sequence))
        guard try deleteBatch.step() else { return nil }
        let events = Int(deleteBatch.int64(0))
        storedBatches -= 1
        storedEvents -= events
        storedBytes -= deleteBatch.int64(1)
        while try deleteBatch.step() {}
        return events
    }

    /// Deletes an acknowledged batch without waiting for the disk: losing this deletion to a
    /// power cut only means the batch is sent again, and the collector acknowledges a repeat
    /// without storing it twice. (WAL keeps the order: the next full commit makes it durable.)
    func deleteAcknowledged(_ sequence: UInt64) throws(SQLiteError) {
        try withoutWaitingForDisk { () throws(SQLiteError) in try delete(sequence) }
    }

    /// Runs `body`'s writes with `synchronous = NORMAL`: they reach the kernel (a killed process
    /// loses nothing) without an fsync each; the next full commit makes them durable, in order.
    private func withoutWaitingForDisk(_ body: () throws(SQLiteError) -> Void) throws(SQLiteError) {
        guard durability == .full else { return try body() }
        try connection.execute("PRAGMA synchronous = NORMAL")
        defer { try? connection.execute("PRAGMA synchronous = FULL") }
        try body()
    }

    /// Up to `limit` batches with a sequence above `after`, oldest first.
    func batches(after: UInt64, limit: Int) throws(SQLiteError) -> [SpooledBatch] {
        selectAfter.reset()
        try selectAfter.bind(1, Int64(after))
        try selectAfter.bind(2, Int64(limit))
        var out: [SpooledBatch] = []
        while try selectAfter.step() { out.append(Self.batch(selectAfter)) }
        return out
    }

    /// The sequence numbers of up to `limit` batches above `after`, oldest first: what a sender
    /// scans to choose, without reading bodies.
    func sequences(after: UInt64, limit: Int, priorityOnly: Bool) throws(SQLiteError) -> [UInt64] {
        let statement = priorityOnly ? selectPrioritySequences : selectSequences
        statement.reset()
        try statement.bind(1, Int64(after))
        try statement.bind(2, Int64(limit))
        var out: [UInt64] = []
        while try statement.step() { out.append(UInt64(statement.int64(0))) }
        return out
    }

    func batch(_ sequence: UInt64) throws(SQLiteError) -> SpooledBatch? {
        selectOne.reset()
        try selectOne.bind(1, Int64(sequence))
        return try selectOne.firstRow(Self.batch)
    }

    static func batch(_ row: SQLiteStatement) -> SpooledBatch {
        SpooledBatch(sequence: UInt64(row.int64(0)), priority: row.int64(1) != 0, events: Int(row.int64(2)),
                     createdUTC: row.int64(3), body: row.bytes(4))
    }

    /// The oldest batch of the given class: (sequence, events), or nil.
    func oldest(priority: Bool) throws(SQLiteError) -> UInt64? {
        try connection.integer("SELECT sequence FROM batches WHERE priority = \(priority ? 1 : 0) ORDER BY sequence LIMIT 1")
            .map { UInt64($0) }
    }

    // MARK: journal

    /// Adds a journal group, written to the kernel but not fsynced (see ``withoutWaitingForDisk``).
    func journal(events: Int, createdUTC: Int64, body: [UInt8]) throws(SQLiteError) {
        try withoutWaitingForDisk { () throws(SQLiteError) in
            insertJournal.reset()
            try insertJournal.bind(1, Int64(events))
            try insertJournal.bind(2, createdUTC)
            try insertJournal.bind(3, body)
            try insertJournal.step()
        }
    }

    /// The journal's groups, oldest first: (row id, events, created, uncompressed protobuf).
    func journalGroups() throws(SQLiteError) -> [(id: Int64, events: Int, createdUTC: Int64, body: [UInt8])] {
        let select = try connection.prepare("SELECT id, events, created_utc_ns, body FROM journal ORDER BY id")
        var out: [(id: Int64, events: Int, createdUTC: Int64, body: [UInt8])] = []
        while try select.step() { out.append((select.int64(0), Int(select.int64(1)), select.int64(2), select.bytes(3))) }
        return out
    }

    func clearJournal() throws(SQLiteError) { try connection.execute("DELETE FROM journal") }

    func clearJournal(through id: Int64) throws(SQLiteError) { try connection.execute("DELETE FROM journal WHERE id <= \(id)") }

    // MARK: losses

    func addLoss(_ loss: SpoolLoss) throws(SQLiteError) {
        try connection.execute("""
            INSERT INTO losses(reason, batches, events) VALUES (\(loss.reason.rawValue), \(loss.batches), \(loss.events))
            ON CONFLICT(reason) DO UPDATE SET batches = batches + excluded.batches, events = events + excluded.events
            """)
    }

    func losses() throws(SQLiteError) -> [SpoolLoss] { try Self.losses(in: connection) }

    /// The unreported losses recorded in a spool file, by reason (also read offline).
    static func losses(in connection: SQLiteConnection) throws(SQLiteError) -> [SpoolLoss] {
        let select = try connection.prepare("SELECT reason, batches, events FROM losses ORDER BY reason")
        var out: [SpoolLoss] = []
        while try select.step() {
            guard let reason = GapReason(rawValue: UInt8(clamping: select.int64(0))) else { continue }
            out.append(SpoolLoss(reason: reason, batches: UInt64(select.int64(1)), events: UInt64(select.int64(2))))
        }
        return out
    }

    /// Subtracts losses that went upstream in a committed batch.
    func reported(_ loss: SpoolLoss) throws(SQLiteError) {
        try connection.execute("""
            UPDATE losses SET batches = max(0, batches - \(loss.batches)), events = max(0, events - \(loss.events))
            WHERE reason = \(loss.reason.rawValue);
            DELETE FROM losses WHERE batches = 0 AND events = 0;
            """)
    }

    // MARK: dead letters

    func deadLetter(_ batch: SpooledBatch, status: Int, reason: String, at: Int64) throws(SQLiteError) {
        let insert = try connection.prepare(
            "INSERT OR REPLACE INTO dead_letters(sequence, status, reason, at_utc_ns, events, body) VALUES (?, ?, ?, ?, ?, ?)")
        try insert.bind(1, Int64(batch.sequence))
        try insert.bind(2, Int64(status))
        try insert.bind(3, reason)
        try insert.bind(4, at)
        try insert.bind(5, Int64(batch.events))
        try insert.bind(6, batch.body)
        try insert.step()
    }

    func deadLetterCount() throws(SQLiteError) -> Int {
        Int(try connection.integer("SELECT count(*) FROM dead_letters") ?? 0)
    }

    /// Bytes of free pages inside the file: space the spool reuses before it grows.
    func reusableBytes() throws(SQLiteError) -> Int64 {
        let pages = try connection.integer("PRAGMA freelist_count") ?? 0
        let size = try connection.integer("PRAGMA page_size") ?? 4096
        return pages * size
    }
}

extension SQLiteError {
    /// A readable database that is not a spool this gateway may use (another gateway's, or
    /// another format): set aside, never sent.
    static func foreign(_ message: String) -> SQLiteError { SQLiteError(code: -1, message: message) }
    var isForeign: Bool { code == -1 }
}
