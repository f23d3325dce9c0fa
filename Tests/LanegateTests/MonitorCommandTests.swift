import Foundation
import LaneCore
import LaneSimulators
import Testing
import LaneCollectorTestSupport
import LaneTestSupport

/// `lanegate monitor` on the real binary: through the running daemon's socket, and with the
/// daemon stopped, opening the devices itself.
extension DaemonTests {
    /// A booth of one reader and one e-seal receiver simulated on ptys in a fresh directory.
    private struct SimulatedBooth {
        let dir = temporaryDirectory()
        let reader: MercuryReaderSimulator
        let receiver: ESealReceiverSimulator
        var config: String { dir + "/lanegate.toml" }
        var socket: String { dir + "/monitor.sock" }

        init() throws {
            reader = try MercuryReaderSimulator(link: dir + "/rfid")
            receiver = try ESealReceiverSimulator(link: dir + "/eseal")
        }

        /// Its configuration, with the monitor socket beside the ptys.
        func writeConfig(collector: String?) throws {
            try DaemonTests.boothConfig(dir: dir, collector: collector).write(toFile: config, atomically: true, encoding: .utf8)
        }

        func stop() {
            reader.stop()
            receiver.stop()
        }
    }

    private static func boothConfig(dir: String, collector: String?) -> String {
        let link = collector.map { """
            [collector]
            url = "\($0)/v1/batches"
            token_file = "\(dir)/token"
            allow_plain_http = true
            """ } ?? ""
        return """
            [gateway]
            id = "gw-a"
            \(link)
            [spool]
            path = "\(dir)/spool.db"
            min_free_disk = "0"
            [metrics]
            listen = "off"
            [monitor]
            socket = "\(dir)/monitor.sock"
            [[devices]]
            name = "rfid-a"
            kind = "rfid"
            tty = "\(dir)/rfid"
            antennas = [1, 2]
            cycle = "50ms"
            [[devices]]
            name = "eseal"
            kind = "eseal"
            tty = "\(dir)/eseal"
            [[lanes]]
            name = "lane1"
              [[lanes.read_points]]
              name = "booth"
              antennas = [{ device = "rfid-a", ports = [1, 2] }, { device = "eseal", ports = [1] }]
              depart_after = "1s"
            """
    }

    @Test func monitorShowsTheRunningDaemonsLaneThroughItsSocket() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: lanegateTool), "build first: swift build --build-tests")
        let booth = try SimulatedBooth()
        defer { booth.stop() }
        let (dir, reader, receiver) = (booth.dir, booth.reader, booth.receiver)
        try tokenA.write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        try await withCollector { url, _ in
            try booth.writeConfig(collector: url)
            let (daemon, log) = try Self.launchDaemon(config: booth.config, environment: [:])
            defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }

            guard await eventually(20, { FileManager.default.fileExists(atPath: booth.socket) || !daemon.isRunning }),
                  daemon.isRunning else {
                Issue.record("no monitor socket: \(log.text)")
                return
            }
            let mode = try FileManager.default.attributesOfItem(atPath: booth.socket)[.posixPermissions] as? Int
            #expect(mode == 0o660, "group lanegate may connect, nobody else: \(String(mode ?? 0, radix: 8))")

            // Both devices come up, and the screen fits a booth terminal.
            var frame = ""
            for _ in 0..<50 where !(frame.contains("rfid-a       reading") && frame.contains("eseal        reading")) {
                frame = try await runTool(["monitor", "--socket", booth.socket, "--once"]).output
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(frame.contains("gw-a · from the running daemon"), "\(frame)")
            #expect(frame.contains("rfid-a       reading") && frame.contains("eseal        reading"), "\(frame)")
            let lines = frame.split(separator: "\n", omittingEmptySubsequences: false).dropLast(2)
            #expect(lines.count <= 24 && lines.allSatisfy { $0.count <= 80 }, "80x24: \(frame)")

            // A tag visit with its RSSI and antennas, a tampered seal, and the link to the collector.
            let tag = TagID(hex: "3005fb63ac1f3841ec880467")!
            for port: UInt8 in [1, 2, 1, 2, 1] {
                reader.read(tag, antenna: port, rssi: port == 1 ? -48 : -57)
                try await Task.sleep(for: .milliseconds(60))
            }
            let seal = SealID(manufacturer: 0x0E1F, tag: 0xC0FFEE)
            receiver.hear(SealReport(seal: seal, status: .sealed, eventCount: 1, eventTime: 1_763_900_000, rssi: -60, antenna: 1))
            receiver.hear(SealReport(seal: seal, status: [.tampered, .opened], eventCount: 2, eventTime: 1_763_900_100, rssi: -61, antenna: 1))
            let visit = "3005fb63ac1f3841ec880467  -48 dBm  ant 1,2  5 reads, gone"
            for _ in 0..<60 where !(frame.contains(visit) && frame.contains("collector up")) {
                try await Task.sleep(for: .milliseconds(250))
                frame = try await runTool(["monitor", "--socket", booth.socket, "--once"]).output
            }
            #expect(frame.contains(visit), "the departed visit, with read count, peak RSSI and antennas: \(frame)")
            #expect(frame.contains("seal 0e1f-00c0ffee tampered|opened  -60 dBm"), "\(frame)")
            #expect(frame.contains("collector up · sent "), "\(frame)")
            #expect(frame.contains("rfid-a       reading") && frame.contains(" 5 read"), "device counts: \(frame)")

            // On a pipe: a plain frame a second, though the daemon sends four snapshots a second.
            let piped = try await runTool(["monitor", "--socket", booth.socket, "--seconds", "3.5"])
            let frames = piped.output.components(separatedBy: "lanegate monitor · ").dropFirst()
            #expect((3...5).contains(frames.count), "\(frames.count) frames in 3.5 s")

            kill(daemon.processIdentifier, SIGTERM)
            let stopped = await daemon.ended(within: .seconds(20))
            #expect(stopped && daemon.terminationStatus == 0)
            #expect(!FileManager.default.fileExists(atPath: booth.socket), "a clean stop removes the socket")
        }
    }

    @Test func monitorOpensTheDevicesItselfWhenTheDaemonIsStopped() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: lanegateTool), "build first: swift build --build-tests")
        let booth = try SimulatedBooth()
        defer { booth.stop() }
        let (dir, reader) = (booth.dir, booth.reader)
        try booth.writeConfig(collector: nil)

        let once = try await runTool(["monitor", "--config", dir + "/lanegate.toml", "--once"])
        #expect(once.status == 0, "\(once.errors)")
        #expect(once.errors.contains("no daemon socket at \(dir)/monitor.sock; opening the devices of \(dir)/lanegate.toml here"),
                "\(once.errors)")
        #expect(once.output.contains("devices opened here (daemon stopped)"), "\(once.output)")
        #expect(once.output.contains("nothing is sent or stored"), "\(once.output)")
        #expect(once.output.contains("rfid-a       reading") && once.output.contains("eseal        reading"),
                "--once waits for the devices: \(once.output)")

        // Plain frames a second on a pipe; the tag read meanwhile shows up in them.
        let searches = reader.counts.searches
        async let watching = runTool(["monitor", "--config", dir + "/lanegate.toml", "--seconds", "6"])
        #expect(await eventually(5) { reader.counts.searches > searches }, "the monitor's session started the reader")
        let tag = TagID(hex: "e2801160600002054cc2f29a")!
        for _ in 0..<3 {
            reader.read(tag, antenna: 2, rssi: -51)
            try await Task.sleep(for: .milliseconds(60))
        }
        let watched = try await watching
        #expect(watched.status == 0, "\(watched.errors)")
        let frames = watched.output.components(separatedBy: "lanegate monitor · ").dropFirst()
        #expect(frames.count >= 4, "a frame a second: \(frames.count)")
        #expect(frames.last?.contains("e2801160600002054cc2f29a  -51 dBm  ant 2") == true, "\(frames.last ?? "")")
        #expect(!FileManager.default.fileExists(atPath: dir + "/spool.db"), "direct mode spools nothing")
    }
}
