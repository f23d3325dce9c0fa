import Foundation
import LaneCollector
import LaneCollectorTestSupport
import LaneTestSupport
import Testing

/// `lanegate-collector gateways`: the collector team registers gateways in the store, and a
/// collector started without a token file accepts exactly those.
@Suite("lanegate-collector gateways")
struct CollectorGatewaysCommandTests {
    @Test func registeredGatewaysAreWhomTheCollectorAccepts() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: collectorTool), "build first: swift build --build-tests")
        let dir = temporaryDirectory()
        let store = ["--store", "sqlite:" + dir + "/events.db"]
        let trace = dir + "/trace.jsonl", config = dir + "/gateway.toml", token = dir + "/token", spool = dir + "/spool.db"
        try await runTool(lanegateTool, ["synth", "--seed", "5", "--lanes", "1", "--vehicles", "6"], stdout: trace)
        try await runTool(lanegateTool, ["synth", "--seed", "5", "--lanes", "1", "--vehicles", "6", "--print-config"], stdout: config)

        let empty = try await runToolCapturing(collectorTool, ["gateways", "list"] + store)
        #expect(empty.status == 0 && empty.output.contains("no gateways registered"), "\(empty)")

        // A new token is made, printed once on standard output, and only its digest kept.
        let added = try await runToolCapturing(collectorTool, ["gateways", "add", "synth-gw"] + store)
        let printed = added.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(added.status == 0 && printed.count == 64 && printed.allSatisfy(\.isHexDigit), "\(added)")
        #expect(added.errors.contains("shown this once"))
        try printed.write(toFile: token, atomically: true, encoding: .utf8)

        let badID = try await runToolCapturing(collectorTool, ["gateways", "add", "lane 3/booth"] + store)
        #expect(badID.status != 0 && badID.errors.contains("is not a gateway id"), "\(badID)")
        let shared = try await runToolCapturing(collectorTool, ["gateways", "add", "other-gw", "--token-file", token] + store)
        #expect(shared.status != 0 && shared.errors.contains("already gateway \"synth-gw\"'s"), "\(shared)")
        let listed = try await runToolCapturing(collectorTool, ["gateways", "list"] + store)
        #expect(listed.output == "synth-gw\ttoken\n", "\(listed)")

        // No --tokens: the collector serves the store's registry.
        let port = Int.random(in: restartablePorts)
        let collector = try launchTool(collectorTool, store + ["--public-read", "--port", String(port)])
        let replay = try await runToolCapturing(lanegateTool, [
            "replay", "--config", config, "--format", "none", "--spool", spool, "--send", "http://127.0.0.1:\(port)/v1/batches",
            "--token-file", token, "--allow-plain-http", trace], within: .seconds(90))
        kill(collector.processIdentifier, SIGTERM)
        await collector.ended()
        #expect(replay.status == 0, "the registered gateway delivered its trace: \(replay.errors.suffix(600))")
        #expect(try await SQLiteEventStore(path: dir + "/events.db").eventCount(gateway: "synth-gw") > 0)

        let removed = try await runToolCapturing(collectorTool, ["gateways", "remove", "synth-gw"] + store)
        #expect(removed.status == 0 && removed.output.contains("removed"), "\(removed)")
        let again = try await runToolCapturing(collectorTool, ["gateways", "remove", "synth-gw"] + store)
        #expect(again.status != 0 && again.errors.contains("no gateway \"synth-gw\" is registered"), "\(again)")
    }

    /// One settings file names the store for `migrate`, `gateways` and the server alike, its
    /// password in a file of its own; an option on the command line wins over the file.
    @Test func theSettingsFileNamesTheStoreForEveryCommand() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: collectorTool), "build first: swift build --build-tests")
        let server = try await PostgresServer.shared()
        let dir = temporaryDirectory()
        let config = dir + "/collector.toml", password = dir + "/db-password"
        try (PostgresServer.password + "\n").write(toFile: password, atomically: true, encoding: .utf8)
        try """
            [store]
            url = "\(server.tcpURL(database: try await server.makeDatabase()))"
            password_file = "\(password)"
            retention_days = 30
            """.write(toFile: config, atomically: true, encoding: .utf8)

        let migrated = try await runToolCapturing(collectorTool, ["migrate", "--config", config])
        #expect(migrated.status == 0 && migrated.output.contains("schema migrated from version 0"), "\(migrated)")
        let added = try await runToolCapturing(collectorTool, ["gateways", "add", "gw-file", "--config", config])
        #expect(added.status == 0 && added.output.trimmingCharacters(in: .whitespacesAndNewlines).count == 64, "\(added)")
        let listed = try await runToolCapturing(collectorTool, ["gateways", "list", "--config", config])
        #expect(listed.output == "gw-file\ttoken\n", "\(listed)")
        let overridden = try await runToolCapturing(collectorTool, ["gateways", "list", "--config", config, "--store", "sqlite:" + dir + "/other.db"])
        #expect(overridden.status == 0 && overridden.output.contains("no gateways registered"), "the option wins: \(overridden)")

        // A mistake in the file stops every command at once, with its line, and shows no password.
        try "[store]\nurl = \"postgres://lanegate@127.0.0.1/x\"\npassword = \"hunter2-in-a-file\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        for command in [["migrate"], ["gateways", "list"], ["gateways", "list", "--store", "sqlite:" + dir + "/other.db"], ["--public-read", "--port", "0"]] {
            let refused = try await runToolCapturing(collectorTool, command + ["--config", config], within: .seconds(30))
            #expect(refused.status != 0 && refused.errors.contains("collector.toml:3: store.password: a password does not go in this file"), "\(command): \(refused)")
            #expect(!(refused.output + refused.errors).contains("hunter2"))
        }
    }
}
