import LaneCollector
import NIOCore
import PostgresNIO

/// Alarms on PostgreSQL: one table every collector on the database raises into, so an incident
/// two collectors find is one alarm (its id is the key), and an acknowledgement made at one is
/// seen at all.
extension PostgresEventStore {
    /// One statement: the deliveries are queued for the ids the insert returns, so an alarm is
    /// new, and queued, in one transaction, whichever collector raised it first.
    public func raise(_ alarms: [Alarm], webhooks: [String: [String]]) async throws -> [Alarm] {
        guard !alarms.isEmpty else { return [] }
        let queued = alarms.flatMap { a in (webhooks[a.id] ?? []).map { (text(a.id), text($0), a.raisedUTC) } }
        return try await reading { [logger] connection in
            let rows = try await connection.query("""
                WITH new AS (
                    INSERT INTO alarms(id, kind, gateway, ports, utc_ns, raised_utc_ns, detail)
                    SELECT * FROM unnest(\(alarms.map { text($0.id) })::text[], \(alarms.map(\.kind.rawValue))::text[],
                                         \(alarms.map { text($0.gateway) })::text[], \(alarms.map { text($0.ports.joined(separator: ",")) })::text[],
                                         \(alarms.map(\.utc))::bigint[], \(alarms.map(\.raisedUTC))::bigint[], \(alarms.map { text($0.detail) })::text[])
                    ON CONFLICT (id) DO NOTHING RETURNING id),
                queued AS (
                    INSERT INTO alarm_deliveries(alarm_id, webhook, state, attempts, next_attempt_utc_ns)
                    SELECT q.alarm_id, q.webhook, 'pending', 0, q.due
                    FROM unnest(\(queued.map(\.0))::text[], \(queued.map(\.1))::text[], \(queued.map(\.2))::bigint[]) AS q(alarm_id, webhook, due)
                    JOIN new ON new.id = q.alarm_id
                    ON CONFLICT DO NOTHING)
                SELECT id FROM new
                """, logger: logger)
            var new = Set<String>()
            for try await id in rows.decode(String.self) { new.insert(id) }
            return alarms.filter { new.contains(text($0.id)) }
        }
    }

    /// `SKIP LOCKED`: collectors sharing the database take different deliveries at once.
    public func claimDeliveries(webhook: String, dueAt now: Int64, leaseUntil: Int64, limit: Int) async throws -> [AlarmDelivery] {
        try await reading { [logger] connection in
            let rows = try await connection.query("""
                WITH due AS (
                    SELECT alarm_id, webhook FROM alarm_deliveries
                    WHERE webhook = \(text(webhook)) AND state = 'pending' AND next_attempt_utc_ns <= \(now)
                    ORDER BY next_attempt_utc_ns LIMIT \(limit) FOR UPDATE SKIP LOCKED),
                held AS (
                    UPDATE alarm_deliveries d SET attempts = d.attempts + 1, next_attempt_utc_ns = \(leaseUntil)
                    FROM due WHERE d.alarm_id = due.alarm_id AND d.webhook = due.webhook
                    RETURNING d.*)
                SELECT \(unescaped: Self.deliveryColumns) FROM held d JOIN alarms a ON a.id = d.alarm_id ORDER BY d.alarm_id, d.webhook
                """, logger: logger)
            return try await Self.deliveries(rows)
        }
    }

    public func settle(_ delivery: AlarmDelivery.Key, _ outcome: AlarmDelivery.Outcome) async throws {
        let (state, error, retryAt, deliveredAt): (AlarmDelivery.State, String?, Int64?, Int64?)
        switch outcome {
        case .delivered(let at): (state, error, retryAt, deliveredAt) = (.delivered, nil, nil, at)
        case .failed(let e, let at): (state, error, retryAt, deliveredAt) = (.pending, text(e), at, nil)
        case .dead(let e): (state, error, retryAt, deliveredAt) = (.dead, text(e), nil, nil)
        }
        _ = try await reading { [logger] connection in
            try await connection.query("""
                UPDATE alarm_deliveries SET state = \(state.rawValue), last_error = \(error),
                    next_attempt_utc_ns = coalesce(\(retryAt), next_attempt_utc_ns), delivered_utc_ns = \(deliveredAt)
                WHERE alarm_id = \(delivery.alarm) AND webhook = \(text(delivery.webhook)) AND state = 'pending'
                """, logger: logger)
        }
    }

    public func deliveries(_ state: AlarmDelivery.State, limit: Int) async throws -> [AlarmDelivery] {
        try await reading { [logger] connection in
            let rows = try await connection.query("""
                SELECT \(unescaped: Self.deliveryColumns) FROM alarm_deliveries d JOIN alarms a ON a.id = d.alarm_id
                WHERE d.state = \(state.rawValue) ORDER BY a.raised_utc_ns, a.id, d.webhook LIMIT \(limit)
                """, logger: logger)
            return try await Self.deliveries(rows)
        }
    }

    public func retryDeadDeliveries(webhook: String, now: Int64) async throws -> Int {
        try await reading { [logger] connection in
            let rows = try await connection.query("""
                UPDATE alarm_deliveries SET state = 'pending', attempts = 0, next_attempt_utc_ns = \(now)
                WHERE webhook = \(text(webhook)) AND state = 'dead' RETURNING 1
                """, logger: logger)
            var n = 0
            for try await _ in rows { n += 1 }
            return n
        }
    }

    static let deliveryColumns = "a.id, a.kind, a.gateway, a.ports, a.utc_ns, a.raised_utc_ns, a.detail, a.acknowledged_by, "
        + "a.acknowledged_utc_ns, d.webhook, d.state, d.attempts, d.next_attempt_utc_ns, d.last_error, d.delivered_utc_ns"

    private static func deliveries(_ rows: PostgresRowSequence) async throws -> [AlarmDelivery] {
        var out: [AlarmDelivery] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            func at<T: PostgresDecodable>(_ i: Int, _: T.Type = T.self) throws -> T { try r[i].decode(T.self, context: .default) }
            let (id, kind, gateway, ports): (String, String, String, String) = (try at(0), try at(1), try at(2), try at(3))
            let (utc, raised, detail, by, acknowledged): (Int64, Int64, String, String?, Int64?) = (try at(4), try at(5), try at(6), try at(7), try at(8))
            let (webhook, state, attempts, next): (String, String, Int, Int64) = (try at(9), try at(10), try at(11), try at(12))
            let (error, delivered): (String?, Int64?) = (try at(13), try at(14))
            guard let kind = Alarm.Kind(rawValue: kind), let state = AlarmDelivery.State(rawValue: state) else { continue }
            out.append(AlarmDelivery(
                alarm: Alarm(id: id, kind: kind, gateway: gateway, ports: ports.split(separator: ",").map(String.init), utc: utc,
                             raisedUTC: raised, detail: detail, acknowledgedBy: by, acknowledgedUTC: acknowledged),
                webhook: webhook, state: state, attempts: Int(attempts), nextAttemptUTC: next, lastError: error, deliveredUTC: delivered))
        }
        return out
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
