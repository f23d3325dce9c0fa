import LaneCollector
import Logging
import PostgresNIO

/// The collector's tables on PostgreSQL, as numbered migrations. `lanegate-collector migrate`
/// applies the missing ones; a collector checks at start that the schema is the one it knows,
/// and refuses a newer one (written by a newer collector) rather than misread it.
///
/// Batches and their tag visits are partitioned by day, so that retention drops whole tables
/// instead of deleting rows. PostgreSQL cannot keep a unique key across partitions, so the
/// exactly-once key lives in `batch_keys`, one small row per batch, unpartitioned.
public enum PostgresSchema {
    /// Each migration runs in its own transaction, under an advisory lock, so that two
    /// collectors migrating at once apply it once.
    static let migrations: [(description: String, sql: [String])] = [
        ("batches, their keys, tag visits, gateways and devices", [
            """
            CREATE TABLE batch_keys(
                gateway text NOT NULL, sequence bigint NOT NULL, digest bytea NOT NULL, events integer NOT NULL,
                day integer NOT NULL, PRIMARY KEY (gateway, sequence))
            """,
            "CREATE INDEX batch_keys_by_day ON batch_keys(day)",
            // Ids are taken under the writers' lock, so they grow in commit order: a reader's
            // cursor never skips a batch that commits after it read.
            "CREATE SEQUENCE batch_ids",
            """
            CREATE TABLE batches(
                id bigint NOT NULL DEFAULT nextval('batch_ids'), day integer NOT NULL, gateway text NOT NULL,
                sequence bigint NOT NULL, events integer NOT NULL, received_utc_ns bigint NOT NULL,
                first_utc_ns bigint NOT NULL, last_utc_ns bigint NOT NULL, body bytea NOT NULL) PARTITION BY RANGE (day)
            """,
            "CREATE INDEX batches_by_id ON batches(id)",
            "CREATE INDEX batches_by_gateway_time ON batches(gateway, last_utc_ns)",
            "CREATE INDEX batches_by_time ON batches(last_utc_ns)",
            """
            CREATE TABLE tag_visits(
                day integer NOT NULL, gateway text NOT NULL, read_point text NOT NULL, tag text NOT NULL,
                first_utc_ns bigint NOT NULL, last_utc_ns bigint NOT NULL, reads integer NOT NULL, rssi smallint NOT NULL,
                open boolean NOT NULL) PARTITION BY RANGE (day)
            """,
            "CREATE INDEX tag_visits_by_gateway_time ON tag_visits(gateway, first_utc_ns)",
            """
            CREATE TABLE gateways(
                id text PRIMARY KEY, last_seen_utc_ns bigint NOT NULL, last_sequence bigint NOT NULL, batches bigint NOT NULL,
                events bigint NOT NULL, gap_events bigint NOT NULL, lost bigint NOT NULL, backlog integer,
                clock_sync text NOT NULL, clock_max_error_us bigint NOT NULL)
            """,
            """
            CREATE TABLE devices(
                gateway text NOT NULL, device text NOT NULL, state text NOT NULL, detail text NOT NULL,
                utc_ns bigint NOT NULL, PRIMARY KEY (gateway, device))
            """,
        ]),
        ("gateway credentials: the gateways every collector on the database accepts, by token digest", [
            """
            CREATE TABLE gateway_credentials(
                gateway text PRIMARY KEY, token_sha256 bytea UNIQUE, registered_at timestamptz NOT NULL DEFAULT now())
            """,
        ]),
        // Few rows (a seal reading is one per truck and port), so one table, trimmed by retention
        // with the day partitions. Batches stored before this migration have none.
        ("seal readings: e-seals' sightings and status changes, for transits between ports", [
            """
            CREATE TABLE seal_readings(
                day integer NOT NULL, gateway text NOT NULL, read_point text NOT NULL, seal text NOT NULL,
                utc_ns bigint NOT NULL, status smallint NOT NULL, event_count integer NOT NULL)
            """,
            "CREATE INDEX seal_readings_by_time ON seal_readings(utc_ns)",
            "CREATE INDEX seal_readings_by_seal ON seal_readings(seal, utc_ns)",
            "CREATE INDEX seal_readings_by_day ON seal_readings(day)",
        ]),
        ("alarms: incidents raised for responders, and who acknowledged them", [
            """
            CREATE TABLE alarms(
                id text PRIMARY KEY, kind text NOT NULL, gateway text NOT NULL, ports text NOT NULL, utc_ns bigint NOT NULL,
                raised_utc_ns bigint NOT NULL, detail text NOT NULL, acknowledged_by text, acknowledged_utc_ns bigint)
            """,
            "CREATE INDEX alarms_by_raised ON alarms(raised_utc_ns)",
        ]),
        ("alarm deliveries: each alarm's queue to each webhook, and its dead letters", [
            """
            CREATE TABLE alarm_deliveries(
                alarm_id text NOT NULL REFERENCES alarms(id), webhook text NOT NULL, state text NOT NULL, attempts integer NOT NULL,
                next_attempt_utc_ns bigint NOT NULL, last_error text, delivered_utc_ns bigint, PRIMARY KEY(alarm_id, webhook))
            """,
            "CREATE INDEX alarm_deliveries_due ON alarm_deliveries(webhook, state, next_attempt_utc_ns)",
        ]),
    ]

    /// The schema version this collector reads and writes.
    public static var currentVersion: Int { migrations.count }

    /// Writers (and partition changes) take this transaction-level advisory lock.
    static let writerLock: Int64 = 0x6C_616E_6567_6174  // "lanegat"
    static let migrationLock: Int64 = 0x6C_616E_6567_6D69

    /// Applies the migrations the database lacks; returns the versions before and after.
    public static func migrate(_ location: PostgresLocation, logger: Logger) async throws -> (from: Int, to: Int) {
        try await withConnection(location, logger: logger) { client in
            // IF NOT EXISTS alone races: two creators can both find it missing.
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
                try await connection.query("CREATE TABLE IF NOT EXISTS lanegate_schema(version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())", logger: logger)
            }
            let before = try await version(client, logger: logger)
            guard before <= currentVersion else { throw newer(before) }
            for (index, migration) in migrations.enumerated() where index + 1 > before {
                try await client.withTransaction(logger: logger) { connection in
                    try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
                    // Another collector may have applied it while this one waited for the lock.
                    let applied = try await connection.query("SELECT 1 FROM lanegate_schema WHERE version = \(index + 1)", logger: logger)
                    for try await _ in applied { return }
                    for statement in migration.sql {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query("INSERT INTO lanegate_schema(version, description) VALUES (\(index + 1), \(migration.description))", logger: logger)
                }
            }
            return (before, currentVersion)
        }
    }

    /// Throws unless the database holds exactly the schema this collector knows.
    public static func check(_ location: PostgresLocation, logger: Logger) async throws {
        try await withConnection(location, logger: logger) { connection in try await check(connection, location, logger: logger) }
    }

    static func check(_ client: PostgresConnection, _ location: PostgresLocation, logger: Logger) async throws {
        let exists = try await client.query("SELECT to_regclass('lanegate_schema') IS NOT NULL", logger: logger)
        var found = false
        for try await present in exists.decode(Bool.self) { found = present }
        guard found else {
            throw CollectorSetupError("\(location) has no lanegate schema yet: run `lanegate-collector migrate --store URL` first")
        }
        let have = try await version(client, logger: logger)
        guard have <= currentVersion else { throw newer(have) }
        guard have == currentVersion else {
            throw CollectorSetupError("\(location) has schema version \(have), this collector needs \(currentVersion): run `lanegate-collector migrate --store URL`")
        }
    }

    private static func version(_ client: PostgresConnection, logger: Logger) async throws -> Int {
        var version = 0
        for try await v in try await client.query("SELECT coalesce(max(version), 0) FROM lanegate_schema", logger: logger).decode(Int.self) {
            version = v
        }
        return version
    }

    private static func newer(_ version: Int) -> CollectorSetupError {
        CollectorSetupError("the database's schema is version \(version), newer than this collector knows (\(currentVersion)): "
                            + "a newer lanegate-collector migrated it; run that version")
    }

    /// Runs `body` on a connection of its own, closed afterwards. A server that cannot be
    /// reached, or refuses the login, is an error that says so within the connect timeout.
    static func withConnection<T>(_ location: PostgresLocation, logger: Logger,
                                  _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: try location.connectionConfiguration(), id: 1, logger: logger)
        } catch {
            throw CollectorSetupError("\(location): cannot connect: \(explain(error))")
        }
        do {
            let value = try await body(connection)
            try? await connection.close()
            return value
        } catch {
            try? await connection.close()
            if error is CollectorSetupError { throw error }
            throw CollectorSetupError("\(location): \(explain(error))")
        }
    }
}
