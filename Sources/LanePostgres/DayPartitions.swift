import Logging
import PostgresNIO
import Synchronization

/// The day partitions of `batches` and `tag_visits`: day N (days since 1970-01-01, UTC) is
/// `batches_dN` and `tag_visits_dN` (`_dm5` for day -5, a clock before 1970). Created ahead of time and on demand, dropped by retention,
/// always under the writers' advisory lock so that collectors never race on them.
final class DayPartitions: Sendable {
    private let client: PostgresClient
    private let logger: Logger
    /// Days known to have their partitions, so that the write path asks only about new ones.
    private let known = Mutex<Set<Int32>>([])

    init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    static func day(ofUTC nanoseconds: Int64) -> Int32 {
        let perDay: Int64 = 86_400 * 1_000_000_000
        let (q, r) = nanoseconds.quotientAndRemainder(dividingBy: perDay)
        return Int32(clamping: r < 0 ? q - 1 : q)
    }

    /// The day a batch is filed under: its first event's, kept within [received - 62 days,
    /// received + 1 day] so that a gateway with a wrong clock cannot make partitions without end,
    /// and within the retention, so that a late batch is not filed under a day already dropped.
    /// Filing decides only what retention drops together; queries read by event time.
    static func day(firstUTC: Int64, receivedUTC: Int64, retentionDays: Int?) -> Int32 {
        let received = day(ofUTC: receivedUTC)
        let back = Int32(min(62, max(0, (retentionDays ?? 63) - 1)))
        return min(max(day(ofUTC: firstUTC), received - back), received + 1)
    }

    /// Forgets which partitions exist: another collector's retention may have dropped some.
    func forget() { known.withLock { $0.removeAll() } }

    static func partition(_ table: String, _ day: Int32) -> String {
        "\(table)_d" + (day < 0 ? "m\(-Int64(day))" : "\(day)")
    }

    static func day(ofPartition name: String) -> Int32? {
        guard let suffix = name.split(separator: "_d").last else { return nil }
        return suffix.hasPrefix("m") ? Int32(suffix.dropFirst()).map { -$0 } : Int32(suffix)
    }

    func ensure(_ days: Set<Int32>) async throws {
        let missing = known.withLock { days.subtracting($0) }
        guard !missing.isEmpty else { return }
        try await client.withLiveTransaction(logger: logger) { [logger] connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.writerLock))", logger: logger)
            for day in missing.sorted() {
                for table in ["batches", "tag_visits"] {
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        CREATE TABLE IF NOT EXISTS \(Self.partition(table, day)) PARTITION OF \(table) FOR VALUES FROM (\(day)) TO (\(Int64(day) + 1))
                        """), logger: logger)
                }
            }
        }
        known.withLock { $0.formUnion(missing) }
    }

    /// Drops the partitions of days before `day`, and the exactly-once keys of their batches.
    func dropOlder(than day: Int32) async throws {
        let dropped = try await client.withLiveTransaction(logger: logger) { [logger] connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.writerLock))", logger: logger)
            var names: [String] = []
            let rows = try await connection.query("""
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
                WHERE p.relname IN ('batches', 'tag_visits')
                """, logger: logger)
            for try await name in rows.decode(String.self) {
                guard let d = Self.day(ofPartition: name), d < day else { continue }
                names.append(name)
            }
            for name in names { try await connection.query(PostgresQuery(unsafeSQL: "DROP TABLE \(name)"), logger: logger) }
            try await connection.query("DELETE FROM batch_keys WHERE day < \(day)", logger: logger)
            try await connection.query("DELETE FROM seal_readings WHERE day < \(day)", logger: logger)
            return names
        }
        if !dropped.isEmpty {
            known.withLock { days in days = days.filter { $0 >= day } }
            logger.notice("retention dropped \(dropped.count) partitions before day \(day)")
        }
    }
}
