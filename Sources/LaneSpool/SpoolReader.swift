import LaneCore
import LaneSQLite
import LaneWire

/// Offline, read-only access to a spool file, for `lanegate spool …` on a file a technician
/// pulled off a box. Nothing is written: no recovery, no policies.
public final class SpoolReader {
    public let path: String
    private let connection: SQLiteConnection

    public struct Summary: Sendable {
        public var gatewayID: String
        public var format: Int64
        public var nextSequence: UInt64
        public var batches: Int
        public var priorityBatches: Int
        public var events: Int
        public var bytes: Int64
        public var oldest: (sequence: UInt64, createdUTC: Int64)?
        public var newest: (sequence: UInt64, createdUTC: Int64)?
        /// Events of an unclosed batch, recovered when the daemon next opens the spool.
        public var journaledEvents: Int
        public var deadLetters: Int
        public var unreportedLosses: [SpoolLoss]
    }

    /// A batch as listed: everything but the body.
    public struct Entry: Sendable {
        public var sequence: UInt64
        public var priority: Bool
        public var events: Int
        public var bytes: Int
        public var createdUTC: Int64
    }

    public struct DeadLetter: Sendable {
        public var batch: SpooledBatch
        public var status: Int
        public var reason: String
    }

    public init(path: String) throws(SQLiteError) {
        self.path = path
        connection = try SQLiteConnection(path: path, create: false, readOnly: true)
        let tables: Int64?
        do { tables = try connection.integer("SELECT count(*) FROM sqlite_master WHERE name = 'batches'") } catch {
            throw SQLiteError(code: error.code, message: "\(path): \(error.message)")
        }
        guard tables == 1 else {
            throw SQLiteError(code: 26 /* SQLITE_NOTADB */, message: "\(path) is an SQLite file but not a lanegate spool")
        }
    }

    public func summary() throws(SQLiteError) -> Summary {
        let totals = try connection.prepare(
            "SELECT count(*), total(priority), total(events), total(length(body)) FROM batches")
        try totals.step()
        func ends(_ order: String) throws(SQLiteError) -> (UInt64, Int64)? {
            let s = try connection.prepare("SELECT sequence, created_utc_ns FROM batches ORDER BY sequence \(order) LIMIT 1")
            return try s.step() ? (UInt64(s.int64(0)), s.int64(1)) : nil
        }
        return Summary(
            gatewayID: try connection.text("SELECT value FROM meta WHERE key = 'gateway_id'") ?? "?",
            format: try connection.integer("SELECT value FROM meta WHERE key = 'format'") ?? 0,
            nextSequence: UInt64(try connection.integer("SELECT value FROM meta WHERE key = 'next_sequence'") ?? 0),
            batches: Int(totals.int64(0)), priorityBatches: Int(totals.int64(1)), events: Int(totals.int64(2)),
            bytes: totals.int64(3), oldest: try ends("ASC"), newest: try ends("DESC"),
            journaledEvents: Int(try connection.integer("SELECT total(events) FROM journal") ?? 0),
            deadLetters: Int(try connection.integer("SELECT count(*) FROM dead_letters") ?? 0),
            unreportedLosses: try SpoolStore.losses(in: connection))
    }

    /// Batches after `after`, oldest first, without their bodies.
    public func entries(after: UInt64 = 0, limit: Int = .max) throws(SQLiteError) -> [Entry] {
        let s = try connection.prepare("""
            SELECT sequence, priority, events, length(body), created_utc_ns FROM batches
            WHERE sequence > ? ORDER BY sequence LIMIT ?
            """)
        try s.bind(1, Int64(after))
        try s.bind(2, Int64(min(limit, Int(Int64.max))))
        var out: [Entry] = []
        while try s.step() {
            out.append(Entry(sequence: UInt64(s.int64(0)), priority: s.int64(1) != 0, events: Int(s.int64(2)),
                             bytes: Int(s.int64(3)), createdUTC: s.int64(4)))
        }
        return out
    }

    /// Calls `body` with every batch, oldest first, reading a few at a time (memory stays
    /// bounded however large the spool).
    public func forEachBatch(_ body: (SpooledBatch) throws -> Void) throws {
        let s = try connection.prepare(
            "SELECT sequence, priority, events, created_utc_ns, body FROM batches WHERE sequence > ? ORDER BY sequence LIMIT 64")
        var after: Int64 = 0
        while true {
            s.reset()
            try s.bind(1, after)
            var any = false
            while try s.step() {
                let batch = SpoolStore.batch(s)
                after = Int64(batch.sequence)
                any = true
                try body(batch)
            }
            if !any { return }
        }
    }

    public func batch(_ sequence: UInt64) throws(SQLiteError) -> SpooledBatch? {
        let s = try connection.prepare(
            "SELECT sequence, priority, events, created_utc_ns, body FROM batches WHERE sequence = ?")
        try s.bind(1, Int64(sequence))
        return try s.step() ? SpoolStore.batch(s) : nil
    }

    public func deadLetters() throws(SQLiteError) -> [DeadLetter] {
        let s = try connection.prepare(
            "SELECT sequence, 0, events, at_utc_ns, body, status, reason FROM dead_letters ORDER BY sequence")
        var out: [DeadLetter] = []
        while try s.step() {
            out.append(DeadLetter(batch: SpoolStore.batch(s), status: Int(s.int64(5)), reason: s.text(6)))
        }
        return out
    }

    /// SQLite's own full integrity check: "ok", or the problems it found.
    public func integrityCheck() throws(SQLiteError) -> [String] {
        let s = try connection.prepare("PRAGMA integrity_check")
        var lines: [String] = []
        while try s.step() { lines.append(s.text(0)) }
        return lines
    }
}

extension SpoolReader {
    private static func check(_ batch: SpooledBatch, summary: Summary, events: inout Int) -> [String] {
        var problems: [String] = []
        if batch.sequence >= summary.nextSequence {
            problems.append("batch \(batch.sequence) is not below next_sequence \(summary.nextSequence)")
        }
        let decoded: DecodedBatch
        do { decoded = try BatchDecoder.decode(batch.body) } catch {
            return problems + ["batch \(batch.sequence): \(error)"]
        }
        events += decoded.events.count
        if decoded.sequence != batch.sequence {
            problems.append("batch \(batch.sequence): body says sequence \(decoded.sequence)")
        }
        if decoded.gatewayID != summary.gatewayID {
            problems.append("batch \(batch.sequence): body says gateway \"\(decoded.gatewayID)\"")
        }
        if decoded.events.count != batch.events {
            problems.append("batch \(batch.sequence): \(decoded.events.count) events, recorded \(batch.events)")
        }
        return problems
    }

    public struct Verification: Sendable {
        public var batches = 0
        public var events = 0
        /// Empty when the spool is sound.
        public var problems: [String] = []
    }

    /// Checks the file (SQLite integrity) and every batch in it: it decodes, and its gateway,
    /// sequence and event count agree with the spool's records.
    public func verify() -> Verification {
        var result = Verification()
        do {
            let integrity = try integrityCheck()
            if integrity != ["ok"] { result.problems += integrity.prefix(20).map { "integrity: \($0)" } }
        } catch {
            result.problems.append("integrity: \(error.message)")
        }
        let summary: Summary
        do { summary = try self.summary() } catch {
            result.problems.append("spool records unreadable: \(error.message)")
            return result
        }
        do {
            try forEachBatch { batch in
                result.batches += 1
                result.problems += Self.check(batch, summary: summary, events: &result.events)
            }
        } catch {
            result.problems.append("reading stopped after \(result.batches) batches: \(error)")
        }
        return result
    }
}
