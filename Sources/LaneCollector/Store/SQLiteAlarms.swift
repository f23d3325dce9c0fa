import LaneSQLite

/// Alarms in the SQLite store, written on the reading connection like the gateway registry:
/// they are few, and must not wait behind the batch writer's group commits.
extension SQLiteEventStore {
    public func raise(_ alarms: [Alarm]) async throws -> [Alarm] {
        guard !alarms.isEmpty else { return [] }
        return try await reading { s throws(SQLiteError) in
            try s.connection.transaction { () throws(SQLiteError) -> [Alarm] in
                let insert = try s.connection.prepare("""
                    INSERT INTO alarms(id, kind, gateway, ports, utc_ns, raised_utc_ns, detail) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO NOTHING
                    """)
                var new: [Alarm] = []
                for a in alarms {
                    insert.reset()
                    try insert.bind(1, a.id)
                    try insert.bind(2, a.kind.rawValue)
                    try insert.bind(3, a.gateway)
                    try insert.bind(4, a.ports.joined(separator: ","))
                    try insert.bind(5, a.utc)
                    try insert.bind(6, a.raisedUTC)
                    try insert.bind(7, a.detail)
                    _ = try insert.step()
                    if s.connection.changes > 0 { new.append(a) }
                }
                return new
            }
        }
    }

    public func alarms(raisedFrom fromUTC: Int64, to toUTC: Int64, limit: Int) async throws -> [Alarm] {
        try await reading { s throws(SQLiteError) in
            let q = try s.connection.prepare("""
                SELECT \(Self.alarmColumns) FROM alarms WHERE raised_utc_ns >= ?1 AND raised_utc_ns < ?2
                ORDER BY raised_utc_ns, id LIMIT ?3
                """)
            try q.bind(1, fromUTC)
            try q.bind(2, toUTC)
            try q.bind(3, Int64(limit))
            var out: [Alarm] = []
            while try q.step() { if let a = Self.alarm(q) { out.append(a) } }
            return out
        }
    }

    public func alarm(id: String) async throws -> Alarm? {
        try await reading { s throws(SQLiteError) in try Self.alarm(id, s.connection) }
    }

    public func acknowledge(alarm id: String, by reader: String, atUTC: Int64) async throws -> Alarm? {
        try await reading { s throws(SQLiteError) in
            let q = try s.connection.prepare("""
                UPDATE alarms SET acknowledged_by = ?2, acknowledged_utc_ns = ?3 WHERE id = ?1 AND acknowledged_by IS NULL
                """)
            try q.bind(1, id)
            try q.bind(2, reader)
            try q.bind(3, atUTC)
            _ = try q.step()
            return try Self.alarm(id, s.connection)
        }
    }

    static let alarmColumns = "id, kind, gateway, ports, utc_ns, raised_utc_ns, detail, acknowledged_by, acknowledged_utc_ns"

    private static func alarm(_ id: String, _ connection: SQLiteConnection) throws(SQLiteError) -> Alarm? {
        let q = try connection.prepare("SELECT \(alarmColumns) FROM alarms WHERE id = ?")
        try q.bind(1, id)
        return try q.step() ? alarm(q) : nil
    }

    /// A row of ``alarmColumns``; nil for a kind this collector does not know (written by a newer one).
    private static func alarm(_ q: SQLiteStatement) -> Alarm? {
        guard let kind = Alarm.Kind(rawValue: q.text(1)) else { return nil }
        return Alarm(id: q.text(0), kind: kind, gateway: q.text(2), ports: q.text(3).split(separator: ",").map(String.init),
                     utc: q.int64(4), raisedUTC: q.int64(5), detail: q.text(6), acknowledgedBy: q.isNull(7) ? nil : q.text(7),
                     acknowledgedUTC: q.isNull(8) ? nil : q.int64(8))
    }
}
