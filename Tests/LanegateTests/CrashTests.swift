import Foundation
import LaneCore
import LaneSQLite
import LaneSimulators
import LaneSpool
import LaneWire
import Testing
import LaneCollectorTestSupport
import LaneTestSupport

/// Real processes, killed with SIGKILL at random moments: a gateway (`lanegate replay --spool
/// --send`, which commits batches while its uplink delivers them) and the collector, which is
/// up, down or flapping. Afterwards the collector must hold every batch the spool ever
/// committed, each exactly once: sequences 1 … N with no hole and no repeat.
@Suite("Crash and restart", .serialized)
struct CrashTests {

    @Test func kill9AtRandomLosesNothingAndDuplicatesNothing() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: lanegateTool), "build first: swift build --build-tests")
        let dir = temporaryDirectory()
        let trace = dir + "/trace.jsonl", config = dir + "/gateway.toml", spool = dir + "/spool.db"
        let database = dir + "/events.db", tokens = dir + "/tokens", token = dir + "/token"
        try await runTool(lanegateTool, ["synth", "--seed", "11", "--lanes", "2", "--vehicles", "30"], stdout: trace)
        try await runTool(lanegateTool, ["synth", "--seed", "11", "--lanes", "2", "--vehicles", "30", "--print-config"], stdout: config)
        // Short batches, so a run commits many of them.
        try (String(contentsOfFile: config, encoding: .utf8) + "\n[pipeline]\nbatch_window = \"2s\"\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        try "synth-gw crash-test-token-0123456789\n".write(toFile: tokens, atomically: true, encoding: .utf8)
        try "crash-test-token-0123456789".write(toFile: token, atomically: true, encoding: .utf8)

        var random = SplitMix64(seed: 20261123)
        let port = restartablePorts.lowerBound + Int(random.next() % UInt64(restartablePorts.count))
        let url = "http://127.0.0.1:\(port)/v1/batches"
        var collector: Process? = try launchTool(collectorTool, ["--database", database, "--tokens", tokens, "--public-read", "--port", String(port)])
        let gatewayArguments = ["replay", "--config", config, "--format", "none", "--spool", spool, "--send", url,
                                "--token-file", token, "--allow-plain-http", trace]
        var killsOfGateway = 0, killsOfCollector = 0
        for round in 0..<24 {
            let gateway = try launchTool(lanegateTool, gatewayArguments)
            try await Task.sleep(for: .milliseconds(Int64(100 + random.next() % 1400)))
            // The collector flaps: killed in some rounds, brought back in others.
            if random.next() % 3 == 0, let running = collector {
                kill(running.processIdentifier, SIGKILL)
                await running.ended()
                collector = nil
                killsOfCollector += 1
            } else if collector == nil, random.next() % 2 == 0 {
                collector = try launchTool(collectorTool, ["--database", database, "--tokens", tokens, "--public-read", "--port", String(port)])
            }
            if gateway.isRunning {
                kill(gateway.processIdentifier, SIGKILL)
                killsOfGateway += 1
            }
            await gateway.ended()
            _ = round
        }
        #expect(killsOfGateway >= 20, "the gateway was killed mid-run \(killsOfGateway) times")
        if collector == nil {
            collector = try launchTool(collectorTool, ["--database", database, "--tokens", tokens, "--public-read", "--port", String(port)])
        }
        // A last, undisturbed run: it replays once more and stays until the spool is empty.
        let last = try launchTool(lanegateTool, gatewayArguments)
        await last.ended()
        #expect(last.terminationStatus == 0)
        if let collector { kill(collector.processIdentifier, SIGTERM); await collector.ended() }

        let summary = try SpoolReader(path: spool).summary()
        #expect(summary.batches == 0 && summary.deadLetters == 0, "everything was delivered")
        let committed = summary.nextSequence - 1
        let store = try SQLiteConnection(path: database, create: false, readOnly: true)
        let rows = try store.prepare("SELECT sequence FROM batches WHERE gateway = 'synth-gw' ORDER BY sequence")
        var stored: [UInt64] = []
        while try rows.step() { stored.append(UInt64(rows.int64(0))) }
        print("crash test: \(committed) batches committed and stored once; gateway killed \(killsOfGateway)×, collector \(killsOfCollector)×")
        #expect(committed > 50, "enough batches to mean something: \(committed)")
        #expect(stored == Array(1...committed), "stored \(stored.count) of \(committed); kills: gateway \(killsOfGateway), collector \(killsOfCollector)")
        // Each run starts without the dictionary and takes it up at the collector's first answer.
        let bodies = try store.prepare("SELECT body FROM batches WHERE gateway = 'synth-gw'")
        var withDictionary = 0
        while try bodies.step() { if Zstd.dictionaryID(of: bodies.bytes(0)) != 0 { withDictionary += 1 } }
        #expect(withDictionary > 0 && withDictionary < stored.count, "\(withDictionary) of \(stored.count) stored with the dictionary")
    }

    /// The same on PostgreSQL, with two collector processes on one database: the gateway fails
    /// over between them while each is killed and restarted at random, and the database server
    /// itself is crashed once (`pg_ctl restart -m immediate`). Every committed batch ends up
    /// stored once.
    @Test func kill9AtRandomWithTwoCollectorsOnOnePostgreSQL() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: lanegateTool), "build first: swift build --build-tests")
        let server = try await PostgresServer()
        defer { server.remove() }
        let database = try await server.makeDatabase()
        let store = server.socketURL(database: database)
        let dir = temporaryDirectory()
        let trace = dir + "/trace.jsonl", config = dir + "/gateway.toml", spool = dir + "/spool.db"
        let token = dir + "/token"
        try await runTool(lanegateTool, ["synth", "--seed", "12", "--lanes", "2", "--vehicles", "30"], stdout: trace)
        try await runTool(lanegateTool, ["synth", "--seed", "12", "--lanes", "2", "--vehicles", "30", "--print-config"], stdout: config)
        try (String(contentsOfFile: config, encoding: .utf8) + "\n[pipeline]\nbatch_window = \"2s\"\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        try "crash-test-token-0123456789".write(toFile: token, atomically: true, encoding: .utf8)
        try await runTool(collectorTool, ["migrate", "--store", store], stdout: dir + "/migrate.out")
        // Both collectors take the gateway from the database: registered once, known to both.
        let registered = try await runToolCapturing(collectorTool, ["gateways", "add", "synth-gw", "--token-file", token, "--store", store])
        try #require(registered.status == 0, "\(registered)")

        var random = SplitMix64(seed: 20261130)
        let half = UInt64(restartablePorts.count / 2)
        let ports = [restartablePorts.lowerBound + Int(random.next() % half), restartablePorts.lowerBound + Int(half + random.next() % half)]
        func launchCollector(_ i: Int) throws -> Process {
            try launchTool(collectorTool, ["--store", store, "--public-read", "--port", String(ports[i])])
        }
        var collectors: [Process?] = [try launchCollector(0), try launchCollector(1)]
        let gatewayArguments = ["replay", "--config", config, "--format", "none", "--spool", spool,
                                "--send", "http://127.0.0.1:\(ports[0])/v1/batches", "--send", "http://127.0.0.1:\(ports[1])/v1/batches",
                                "--token-file", token, "--allow-plain-http", trace]
        var killsOfGateway = 0, killsOfCollectors = 0, serverCrashes = 0
        for round in 0..<16 {
            let gateway = try launchTool(lanegateTool, gatewayArguments)
            try await Task.sleep(for: .milliseconds(Int64(100 + random.next() % 1400)))
            let i = Int(random.next() % 2)
            if random.next() % 3 == 0, let running = collectors[i] {
                kill(running.processIdentifier, SIGKILL)
                await running.ended()
                collectors[i] = nil
                killsOfCollectors += 1
            } else if collectors[i] == nil {
                collectors[i] = try launchCollector(i)
            }
            if round == 7 {
                try await server.restart(mode: "immediate")
                serverCrashes += 1
            }
            if gateway.isRunning {
                kill(gateway.processIdentifier, SIGKILL)
                killsOfGateway += 1
            }
            await gateway.ended()
        }
        for i in 0..<2 where collectors[i] == nil { collectors[i] = try launchCollector(i) }
        let last = try launchTool(lanegateTool, gatewayArguments)
        await last.ended()
        #expect(last.terminationStatus == 0)
        for case let c? in collectors where c.isRunning {
            kill(c.processIdentifier, SIGTERM)
            #expect(await c.ended(within: .seconds(30)) && c.terminationStatus == 0, "a collector stops on SIGTERM, cleanly")
        }

        let summary = try SpoolReader(path: spool).summary()
        #expect(summary.batches == 0 && summary.deadLetters == 0, "everything was delivered")
        let committed = summary.nextSequence - 1
        let stored = try await server.psql(database, "SELECT sequence FROM batches WHERE gateway = 'synth-gw' ORDER BY sequence")
            .split(separator: "\n").compactMap { UInt64($0) }
        print("crash test (PostgreSQL): \(committed) batches committed and stored once; gateway killed \(killsOfGateway)×, "
              + "collectors \(killsOfCollectors)×, database server crashed \(serverCrashes)×")
        #expect(killsOfGateway >= 10 && serverCrashes == 1)
        #expect(committed > 30, "enough batches to mean something: \(committed)")
        #expect(stored == Array(1...committed), "stored \(stored.count) of \(committed)")
    }
}
