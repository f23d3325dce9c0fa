import Foundation
import LaneCollector
import LaneCore
import LanePostgres
import Prometheus
import LaneCollectorTestSupport
import LaneTestSupport
import Synchronization
import Testing

/// What only the PostgreSQL store has: a schema to migrate, a server that can be wrong or gone,
/// and other collectors writing to the same database.
@Suite("PostgreSQL store")
struct PostgresStoreTests {
    @Test func migrationsRunOnceAndACollectorRefusesASchemaItDoesNotKnow() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.makeDatabase()
        let location = try PostgresLocation(url: server.socketURL(database: database))
        await #expect { try await PostgresSchema.check(location, logger: quietLogger) } throws: { error in
            "\(error)".contains("no lanegate schema yet") && "\(error)".contains("lanegate-collector migrate")
        }
        // Three collectors migrating at once: one applies each step, the others find it done.
        let results = try await withThrowingTaskGroup(of: (from: Int, to: Int).self) { group in
            for _ in 0..<3 { group.addTask { try await PostgresSchema.migrate(location, logger: quietLogger) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.to == PostgresSchema.currentVersion })
        try await PostgresSchema.check(location, logger: quietLogger)
        #expect(try await server.psql(database, "SELECT count(*) FROM lanegate_schema") == "\(PostgresSchema.currentVersion)\n")

        // A newer collector's migration: this one neither serves on it nor migrates it back.
        _ = try await server.psql(database, "INSERT INTO lanegate_schema(version, description) VALUES (99, 'from the future')")
        for attempt in [{ try await PostgresSchema.check(location, logger: quietLogger) },
                        { _ = try await PostgresSchema.migrate(location, logger: quietLogger) }] as [@Sendable () async throws -> Void] {
            await #expect { try await attempt() } throws: { error in
                "\(error)".contains("version 99, newer than this collector knows")
            }
        }
    }

    @Test func wrongSettingsFailAtStartWithAReasonAndNeverShowThePassword() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.makeDatabase()
        let good = try PostgresLocation(url: server.tcpURL(database: database), password: PostgresServer.password)
        _ = try await PostgresSchema.migrate(good, logger: quietLogger)

        let secret = "not-the-password-7Qx"
        let cases: [(url: String, password: String?, says: String)] = [
            (server.tcpURL(database: database), secret, "password authentication failed"),
            (server.tcpURL(database: database), nil, "password"),
            (server.tcpURL(database: "no_such_db"), PostgresServer.password, "does not exist"),
            ("postgres://lanegate@127.0.0.1:1/x", nil, "cannot connect"),
        ]
        for c in cases {
            let location = try PostgresLocation(url: c.url, password: c.password)
            await #expect { try await PostgresSchema.check(location, logger: quietLogger) } throws: { error in
                "\(error)".contains(c.says) && !"\(error)".contains(secret)
            }
        }
        let inURL = try PostgresLocation(url: "postgres://lanegate:\(secret)@127.0.0.1:\(server.port)/\(database)")
        #expect(!inURL.description.contains(secret) && inURL.description.contains("127.0.0.1"))
        try await PostgresSchema.check(try PostgresLocation(url: server.tcpURL(database: database), password: PostgresServer.password),
                                       logger: quietLogger)
        for bad in ["mysql://a@b/c", "postgres://host/db", "postgres://u@host/", "postgres://u@host:0/db",
                    "postgres://u@host/db?sslmode=maybe", "postgres://u@host/db?application=x"] {
            #expect(throws: CollectorSetupError.self, "\(bad)") { try PostgresLocation(url: bad) }
        }
        do { _ = try PostgresLocation(url: "postgres://u:\(secret)@host/db?sslmode=maybe") } catch {
            #expect(!"\(error)".contains(secret), "an error about the URL does not repeat its password")
        }
    }

    /// Two collectors on one database, each taking the same batches at once, as when a gateway
    /// times out on one and retries on the other: each batch is stored once.
    @Test func twoCollectorsOnOneDatabaseStoreEachBatchOnce() async throws {
        let server = try await PostgresServer.shared()
        let location = try PostgresLocation(url: server.socketURL(database: try await server.makeDatabase()))
        _ = try await PostgresSchema.migrate(location, logger: quietLogger)
        let batches = (1...150).map { TestBatch(gateway: "gw-\($0 % 5)", sequence: UInt64($0), events: mixed(4)) }
        let outcomes = try await withPostgresStore(location) { first in
            try await withPostgresStore(location) { second in
                try await withThrowingTaskGroup(of: StoreOutcome.self) { group in
                    for b in batches {
                        group.addTask { try await b.store(in: first) }
                        group.addTask { try await b.store(in: second) }
                    }
                    return try await group.reduce(into: [StoreOutcome]()) { $0.append($1) }
                }
            }
        }
        #expect(outcomes.filter { $0 == .stored(events: 4) }.count == 150)
        #expect(outcomes.filter { $0 == .duplicate(events: 4) }.count == 150)
        try await withPostgresStore(location) { (store: PostgresEventStore) async throws in
            #expect(try await store.eventCount(gateway: nil) == 600)
            #expect(try await store.gateways().map(\.batches) == [30, 30, 30, 30, 30])
        }
    }

    /// A database a collector of the previous version migrated (schema 1, before the gateway
    /// registry) is named as such at start, and `migrate` brings it up with its batches kept.
    @Test func aDatabaseOfThePreviousVersionIsMigratedWithItsBatches() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.makeDatabase()
        let location = try PostgresLocation(url: server.socketURL(database: database))
        _ = try await PostgresSchema.migrate(location, logger: quietLogger)
        try await withPostgresStore(location) { (store: PostgresEventStore) async throws in
            #expect(try await TestBatch(gateway: "gw-old", sequence: 1, events: mixed(4)).store(in: store) == .stored(events: 4))
        }
        _ = try await server.psql(database, "DROP TABLE gateway_credentials, seal_readings, alarm_deliveries, alarms; DELETE FROM lanegate_schema WHERE version > 1")
        await #expect { try await PostgresSchema.check(location, logger: quietLogger) } throws: { error in
            "\(error)".contains("schema version 1, this collector needs \(PostgresSchema.currentVersion)")
        }
        let migrated = try await PostgresSchema.migrate(location, logger: quietLogger)
        #expect(migrated.from == 1 && migrated.to == PostgresSchema.currentVersion)
        try await PostgresSchema.check(location, logger: quietLogger)
        try await withPostgresStore(location) { (store: PostgresEventStore) async throws in
            #expect(try await store.eventCount(gateway: "gw-old") == 4)
            try await store.register(GatewayCredential(gateway: "gw-old", token: "token-of-the-old-gateway"))
            #expect(try await store.registeredGateways().map(\.gateway) == ["gw-old"])
        }
    }

    /// `/metrics` shows the database side: batches per transaction, transaction time, the
    /// writer's queue and the pool.
    @Test func theStoreReportsItsGroupsQueueAndPool() async throws {
        let server = try await PostgresServer.shared()
        let location = try PostgresLocation(url: server.socketURL(database: try await server.makeDatabase()))
        _ = try await PostgresSchema.migrate(location, logger: quietLogger)
        let registry = PrometheusCollectorRegistry()
        var settings = PostgresEventStore.Settings()
        settings.connections = 5
        try await withPostgresStore(location, settings: settings, registry: registry) { (store: PostgresEventStore) async throws in
            try await withThrowingTaskGroup(of: StoreOutcome.self) { group in
                for n in 1...60 { group.addTask { try await TestBatch(gateway: "gw-m", sequence: UInt64(n), events: mixed(3)).store(in: store) } }
                try await group.waitForAll()
            }
            _ = try await store.gateways()
        }
        let text = String(decoding: registry.emitToBuffer(), as: UTF8.self)
        func value(_ name: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last!) }
        }
        #expect(value("lanegate_collector_postgres_group_batches_sum") == 60, "\(text)")
        let transactions = try #require(value("lanegate_collector_postgres_transaction_seconds_count"))
        #expect(transactions >= 1 && transactions <= 60)
        #expect(value("lanegate_collector_postgres_connections") == 5)
        #expect(value("lanegate_collector_postgres_connections_in_use") == 0, "every lease returned")
        #expect(value("lanegate_collector_postgres_queued_batches") == 0, "nothing left waiting")
    }

    /// The server is killed (`pg_ctl restart -m immediate`) while batches stream in. A batch
    /// answered "unavailable" is sent again, as a gateway's spool would: in the end every batch
    /// is stored exactly once.
    @Test func aServerCrashMidStreamLosesNothingAndDoublesNothing() async throws {
        // A server of its own: the other tests' connections must not see this one crash.
        let server = try await PostgresServer()
        defer { server.remove() }
        let database = try await server.makeDatabase()
        let location = try PostgresLocation(url: server.socketURL(database: database))
        _ = try await PostgresSchema.migrate(location, logger: quietLogger)
        var settings = PostgresEventStore.Settings()
        settings.deadline = .seconds(3)
        let batches = (1...300).map { TestBatch(gateway: "gw-\($0 % 3)", sequence: UInt64($0), events: mixed(5)) }
        let (unavailable, stored) = try await withPostgresStore(location, settings: settings) { (store: PostgresEventStore) async throws in
            // Crashed every 300 ms until the senders are done: a single crash can fall between
            // two transactions on a loaded machine, and then nobody notices it.
            let sending = Atomic<Bool>(true)
            let restart = Task.detached {
                var crashes = 0
                repeat {
                    try await Task.sleep(for: .milliseconds(300))
                    try await server.restart(mode: "immediate")
                    crashes += 1
                } while sending.load(ordering: .relaxed)
                return crashes
            }
            let tally = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                // Three gateways, each sending its batches in order and retrying until acknowledged.
                for gateway in 0..<3 {
                    group.addTask {
                        var retries = 0, storedNow = 0
                        for b in batches where b.decoded.gatewayID == "gw-\(gateway)" {
                            while retries < 200 {
                                do {
                                    let outcome = try await b.store(in: store)
                                    if case .stored = outcome { storedNow += 1 }
                                    break
                                } catch is StoreUnavailableError {
                                    retries += 1
                                    try await Task.sleep(for: .milliseconds(100))
                                }
                            }
                            try await Task.sleep(for: .milliseconds(5))
                        }
                        return (retries, storedNow > 0)
                    }
                }
                return try await group.reduce(into: (0, true)) { $0.0 += $1.0; $0.1 = $0.1 && $1.1 }
            }
            sending.store(false, ordering: .relaxed)
            #expect(try await restart.value >= 1)
            #expect(try await store.eventCount(gateway: nil) == 1500)
            return tally
        }
        #expect(unavailable > 0, "the restart was felt: \(unavailable) batches answered unavailable and sent again")
        #expect(stored)
        #expect(try await server.psql(database, "SELECT count(*), count(DISTINCT (gateway, sequence)) FROM batches") == "300|300\n")
    }

    /// Days older than the retention go as whole partitions, with their keys; newer days stay.
    @Test func retentionDropsWholeOldDays() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.makeDatabase()
        let location = try PostgresLocation(url: server.socketURL(database: database))
        _ = try await PostgresSchema.migrate(location, logger: quietLogger)
        let day: Int64 = 86_400 * 1_000_000_000
        let now = ClockAnchor.now().utcNanoseconds
        try await withPostgresStore(location) { (store: PostgresEventStore) async throws in
            for (n, age) in [40, 20, 3, 0].enumerated() {
                let b = TestBatch(gateway: "gw-a", sequence: UInt64(n + 1), events: mixed(3), utcAtZero: now - Int64(age) * day)
                #expect(try await b.store(in: store, receivedUTC: now - Int64(age) * day) == .stored(events: 3))
            }
        }
        var settings = PostgresEventStore.Settings()
        settings.retentionDays = 10
        try await withPostgresStore(location, settings: settings) { (store: PostgresEventStore) async throws in
            #expect(await eventually(10) { (try? await store.eventCount(gateway: nil)) == 6 })
            var all = EventQuery()
            all.limit = 100
            #expect(Set(try await store.events(all).events.map(\.sequence)) == [3, 4])
            #expect(try await store.tagVisits(gateways: ["gw-a"], fromUTC: now - 50 * day, toUTC: now + day).count == 4)
        }
        let partitions = try await server.psql(database, "SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'batches'")
        #expect(try #require(Int(partitions.trimmingCharacters(in: .whitespacesAndNewlines))) <= 6,
                "two days with data and the days ahead: \(partitions)")
    }

    /// The database goes away under a running collector: batches get 503 (the gateway keeps
    /// them), /healthz says why, queries get 503; when it is back, the same batch is stored.
    @Test func aCollectorWhoseDatabaseIsDownAnswers503UntilItIsBack() async throws {
        let server = try await PostgresServer()
        defer { server.remove() }
        let location = try PostgresLocation(url: server.socketURL(database: try await server.makeDatabase()))
        _ = try await PostgresSchema.migrate(location, logger: quietLogger)
        var settings = PostgresEventStore.Settings()
        settings.deadline = .seconds(5)  // a loaded test machine can take seconds for the first batch
        try await withPostgresStore(location, settings: settings) { (store: PostgresEventStore) async throws in
            try await withCollector(store: store) { url, _ in
                // Under a loaded run the first batch (which also makes the day's partitions) may
                // miss its deadline and get a 503: a gateway sends it again, and so does this.
                #expect(await eventually(30) { (try? await post(url, encodedBatch(gateway: "gw-a", sequence: 1), token: tokenA).0) == 200 })
                #expect(try await get(url + "/healthz", token: nil) == (200, "ok\n"))
                try await server.stop(mode: "fast")
                let (status, answer) = try await post(url, encodedBatch(gateway: "gw-a", sequence: 2), token: tokenA)
                #expect(status == 503 && answer.contains("store is unavailable"), "\(status) \(answer)")
                let health = try await get(url + "/healthz", token: nil)
                #expect(health.0 == 503 && health.1.contains("store unavailable"), "\(health)")
                #expect(try await get(url + "/v1/events?gateway=gw-a").0 == 503)
                try await server.start()
                #expect(await eventually(15) { (try? await post(url, encodedBatch(gateway: "gw-a", sequence: 2), token: tokenA).0) == 200 })
                #expect(try await store.eventCount(gateway: "gw-a") == 10)
                #expect(try await get(url + "/healthz", token: nil).0 == 200)
            }
        }
    }
}
