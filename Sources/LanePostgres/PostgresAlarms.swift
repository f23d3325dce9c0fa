import LaneCollector
import NIOCore
import PostgresNIO

/// Alarms on PostgreSQL: one table every collector on the database raises into, so an incident
/// two collectors find is one alarm (its id is the key), and an acknowledgement made at one is
/// seen at all.
extension PostgresEventStore {
    public func raise(_ alarms: [Alarm]) async throws -> [Alarm] {
        guard !alarms.isEmpty else { return [] }
        return try await reading { [logger] connection in
            let rows = try await connection.query("""
                INSERT INTO alarms(id, kind, gateway, ports, utc_ns, raised_utc_ns, detail)
                SELECT * FROM unnest(\(alarms.map { text($0.id) })::text[], \(alarms.map(\.kind.rawValue))::text[],
                                     \(alarms.map { text($0.gateway) })::text[], \(alarms.map { text($0.ports.joined(separator: ",")) })::text[],
                                     \(alarms.map(\.utc))::bigint[], \(alarms.map(\.raisedUTC))::bigint[], \(alarms.map { text($0.detail) })::text[])
                ON CONFLICT (id) DO NOTHING RETURNING id
                """, logger: logger)
            var new = Set<String>()
            for try await id in rows.decode(String.self) { new.insert(id) }
            return alarms.filter { new.contains(text($0.id)) }
        }
    }

    public func alarms(raisedFrom fromUTC: Int64, to toUTC: Int64, limit: Int) async throws -> [Alarm] {
        try await reading { [logger] connection in
            let rows = try await connection.query("""
                SELECT id, kind, gateway, ports, utc_ns, raised_utc_ns, detail, acknowledged_by, acknowledged_utc_ns FROM alarms
                WHERE raised_utc_ns >= \(fromUTC) AND raised_utc_ns < \(toUTC) ORDER BY raised_utc_ns, id LIMIT \(limit)
                """, logger: logger)
            return try await Self.alarms(rows)
        }
    }

    public func alarm(id: String) async throws -> Alarm? {
        try await reading { [logger] connection in
            let rows = try await connection.query("""
                SELECT id, kind, gateway, ports, utc_ns, raised_utc_ns, detail, acknowledged_by, acknowledged_utc_ns FROM alarms
                WHERE id = \(id)
                """, logger: logger)
            return try await Self.alarms(rows).first
        }
    }

    public func acknowledge(alarm id: String, by reader: String, atUTC: Int64) async throws -> Alarm? {
        try await reading { [logger] connection in
            try await connection.query("""
                UPDATE alarms SET acknowledged_by = \(text(reader)), acknowledged_utc_ns = \(atUTC)
                WHERE id = \(id) AND acknowledged_by IS NULL
                """, logger: logger)
            let rows = try await connection.query("""
                SELECT id, kind, gateway, ports, utc_ns, raised_utc_ns, detail, acknowledged_by, acknowledged_utc_ns FROM alarms
                WHERE id = \(id)
                """, logger: logger)
            return try await Self.alarms(rows).first
        }
    }

    /// Rows of a kind this collector does not know (written by a newer one) are left out.
    private static func alarms(_ rows: PostgresRowSequence) async throws -> [Alarm] {
        var out: [Alarm] = []
        for try await (id, kind, gateway, ports, utc, raised, detail, by, at)
            in rows.decode((String, String, String, String, Int64, Int64, String, String?, Int64?).self) {
            guard let kind = Alarm.Kind(rawValue: kind) else { continue }
            out.append(Alarm(id: id, kind: kind, gateway: gateway, ports: ports.split(separator: ",").map(String.init), utc: utc,
                             raisedUTC: raised, detail: detail, acknowledgedBy: by, acknowledgedUTC: at))
        }
        return out
    }
}
