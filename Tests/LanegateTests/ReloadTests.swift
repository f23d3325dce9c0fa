import Foundation
import LaneSimulators
import Testing
import LaneCollectorTestSupport
import LaneTestSupport

/// `systemctl reload lanegate` (SIGHUP) on the real binary: what a running daemon can take on
/// moves at once, the rest is named, and a broken file is refused without stopping anything.
@Suite("Configuration reload", .serialized)
struct ReloadTests {
    @Test func reloadMovesMetricsNamesWhatTakesARestartAndRefusesABrokenFile() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: lanegateTool), "build first: swift build --build-tests")
        let dir = temporaryDirectory()
        let reader = try MercuryReaderSimulator(link: dir + "/rfid")
        defer { reader.stop() }
        let notify = try DatagramSink(path: dir + "/notify")
        try tokenA.write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        let ports = try freeLoopbackPorts(2), firstPort = ports[0], secondPort = ports[1]

        try await withCollector { url, _ in
            func config(metricsPort: Int, antennas: String, spool: String = "min_free_disk = \"0\"") -> String {
                """
                [gateway]
                id = "gw-a"
                [collector]
                url = "\(url)/v1/batches"
                token_file = "\(dir)/token"
                allow_plain_http = true
                [spool]
                path = "\(dir)/spool.db"
                \(spool)
                [metrics]
                listen = "127.0.0.1:\(metricsPort)"
                [[devices]]
                name = "rfid-a"
                kind = "rfid"
                tty = "\(dir)/rfid"
                antennas = \(antennas)
                [[lanes]]
                name = "lane1"
                  [[lanes.read_points]]
                  name = "booth"
                  antennas = [{ device = "rfid-a", ports = [1] }]
                """
            }
            let file = dir + "/lanegate.toml"
            try config(metricsPort: firstPort, antennas: "[1]").write(toFile: file, atomically: true, encoding: .utf8)
            let (daemon, log) = try DaemonTests.launchDaemon(config: file, environment: ["NOTIFY_SOCKET": dir + "/notify"])
            defer { if daemon.isRunning { daemon.terminate() } }
            try #require(await eventually(20) { notify.received.contains { $0.hasPrefix("READY=1") } || !daemon.isRunning } && daemon.isRunning)
            #expect(await metricsAnswer(on: firstPort))

            // [metrics] moves now; the reader's antennas wait for a restart.
            try config(metricsPort: secondPort, antennas: "[1, 2]").write(toFile: file, atomically: true, encoding: .utf8)
            kill(daemon.processIdentifier, SIGHUP)
            #expect(await metricsAnswer(on: secondPort), "metrics moved to the new port")
            #expect(notify.received.contains("RELOADING=1"))
            #expect(await eventually(5) { notify.received.contains { $0.contains("restart to apply devices") } },
                    "the status line names what waits for a restart: \(notify.received.suffix(3))")

            // A file with an error is refused; the daemon keeps running as it was.
            try config(metricsPort: secondPort, antennas: "[1, 2]", spool: "durability = \"sometimes\"")
                .write(toFile: file, atomically: true, encoding: .utf8)
            let readies = notify.received.filter { $0.hasPrefix("READY=1") }.count
            kill(daemon.processIdentifier, SIGHUP)
            #expect(await eventually(10) { notify.received.filter { $0.hasPrefix("READY=1") }.count > readies },
                    "the reload was answered")
            #expect(daemon.isRunning, "a broken file does not stop the daemon")
            #expect(await metricsAnswer(on: secondPort))

            kill(daemon.processIdentifier, SIGTERM)
            let stopped = await daemon.ended(within: .seconds(20))
            #expect(stopped && daemon.terminationStatus == 0)
            let text = log.text
            #expect(text.contains("changed devices, metrics; applied: metrics; takes a restart: devices"), "\(text)")
            #expect(text.contains("reload of \(file) refused") && text.contains("\(file):9: spool.durability"), "\(text)")
        }
    }

    private func metricsAnswer(on port: Int) async -> Bool {
        for _ in 0..<50 {
            if let (status, body) = try? await get("http://127.0.0.1:\(port)/metrics"), status == 200, body.contains("lanegate_") { return true }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return false
    }
}
