import LaneSQLite

/// Alarms in the SQLite store, written on the reading connection like the gateway registry:
/// they are few, and must not wait behind the batch writer's group commits.
extension SQLiteEventStore {
    public func raise(_ alarms: [Alarm], webhooks: [String: [String]]) async throws -> [Alarm] {
        guard !alarms.isEmpty else { return [] }
        return try await reading { s throws(SQLiteError) in
            try s.connection.transaction { () throws(SQLiteError) -> [Alarm] in
                let insert = try s.connection.prepare("""
                    INSERT INTO alarms(id, kind, gateway, ports, utc_ns, raised_utc_ns, detail) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO NOTHING
                    """)
                let queue = try s.connection.prepare("""
                    INSERT INTO alarm_deliveries(alarm_id, webhook, state, attempts, next_attempt_utc_ns) VALUES (?, ?, 'pending', 0, ?)
                    ON CONFLICT DO NOTHING
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
                    guard s.connection.changes > 0 else { continue }
                    new.append(a)
                    for webhook in webhooks[a.id] ?? [] {
                        queue.reset()
                        try queue.bind(1, a.id)
                        try queue.bind(2, webhook)
                        try queue.bind(3, a.raisedUTC)
                        _ = try queue.step()
                    }
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

    public func claimDeliveries(webhook: String, dueAt now: Int64, leaseUntil: Int64, limit: Int) async throws -> [AlarmDelivery] {
        try await reading { s throws(SQLiteError) in
            try s.connection.transaction { () throws(SQLiteError) -> [AlarmDelivery] in
                let due = try s.connection.prepare("""
                    SELECT \(Self.deliveryColumns) FROM alarm_deliveries d JOIN alarms a ON a.id = d.alarm_id
                    WHERE d.webhook = ?3 AND d.state = 'pending' AND d.next_attempt_utc_ns <= ?1 ORDER BY d.next_attempt_utc_ns LIMIT ?2
                    """)
                try due.bind(1, now)
                try due.bind(2, Int64(limit))
                try due.bind(3, webhook)
                var claimed: [AlarmDelivery] = []
                while try due.step() { if let d = Self.delivery(due) { claimed.append(d) } }
                let hold = try s.connection.prepare("""
                    UPDATE alarm_deliveries SET attempts = attempts + 1, next_attempt_utc_ns = ?3 WHERE alarm_id = ?1 AND webhook = ?2
                    """)
                for i in claimed.indices {
                    hold.reset()
                    try hold.bind(1, claimed[i].alarm.id)
                    try hold.bind(2, claimed[i].webhook)
                    try hold.bind(3, leaseUntil)
                    _ = try hold.step()
                    claimed[i].attempts += 1
                    claimed[i].nextAttemptUTC = leaseUntil
                }
                return claimed
            }
        }
    }

    public func settle(_ delivery: AlarmDelivery.Key, _ outcome: AlarmDelivery.Outcome) async throws {
        try await reading { s throws(SQLiteError) in
            let q = try s.connection.prepare("""
                UPDATE alarm_deliveries SET state = ?3, last_error = ?4, next_attempt_utc_ns = coalesce(?5, next_attempt_utc_ns),
                    delivered_utc_ns = ?6
                WHERE alarm_id = ?1 AND webhook = ?2 AND state = 'pending'
                """)
            try q.bind(1, delivery.alarm)
            try q.bind(2, delivery.webhook)
            switch outcome {
            case .delivered(let at):
                try q.bind(3, AlarmDelivery.State.delivered.rawValue)
                try q.bind(6, at)
            case .failed(let error, let retryAt):
                try q.bind(3, AlarmDelivery.State.pending.rawValue)
                try q.bind(4, error)
                try q.bind(5, retryAt)
            case .dead(let error):
                try q.bind(3, AlarmDelivery.State.dead.rawValue)
                try q.bind(4, error)
            }
            _ = try q.step()
        }
    }

    public func deliveries(_ state: AlarmDelivery.State, limit: Int) async throws -> [AlarmDelivery] {
        try await reading { s throws(SQLiteError) in
            let q = try s.connection.prepare("""
                SELECT \(Self.deliveryColumns) FROM alarm_deliveries d JOIN alarms a ON a.id = d.alarm_id
                WHERE d.state = ?1 ORDER BY a.raised_utc_ns, a.id, d.webhook LIMIT ?2
                """)
            try q.bind(1, state.rawValue)
            try q.bind(2, Int64(limit))
            var out: [AlarmDelivery] = []
            while try q.step() { if let d = Self.delivery(q) { out.append(d) } }
            return out
        }
    }

    public func retryDeadDeliveries(webhook: String, now: Int64) async throws -> Int {
        try await reading { s throws(SQLiteError) in
            let q = try s.connection.prepare("""
                UPDATE alarm_deliveries SET state = 'pending', attempts = 0, next_attempt_utc_ns = ?2 WHERE webhook = ?1 AND state = 'dead'
                """)
            try q.bind(1, webhook)
            try q.bind(2, now)
            _ = try q.step()
            return s.connection.changes
        }
    }

    static let deliveryColumns = "a.id, a.kind, a.gateway, a.ports, a.utc_ns, a.raised_utc_ns, a.detail, a.acknowledged_by, "
        + "a.acknowledged_utc_ns, d.webhook, d.state, d.attempts, d.next_attempt_utc_ns, d.last_error, d.delivered_utc_ns"

    /// A row of ``deliveryColumns``; nil for an alarm kind or state this collector does not know.
    private static func delivery(_ q: SQLiteStatement) -> AlarmDelivery? {
        guard let alarm = alarm(q), let state = AlarmDelivery.State(rawValue: q.text(10)) else { return nil }
        return AlarmDelivery(alarm: alarm, webhook: q.text(9), state: state, attempts: Int(q.int64(11)), nextAttemptUTC: q.int64(12),
                             lastError: q.isNull(13) ? nil : q.text(13), deliveredUTC: q.isNull(14) ? nil : q.int64(14))
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
