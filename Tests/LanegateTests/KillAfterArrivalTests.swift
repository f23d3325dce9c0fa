import Foundation
import LaneCollector
import LaneCore
import LaneSimulators
import Testing
import LaneCollectorTestSupport
import LaneTestSupport

/// kill -9 right after the monitor showed a tag arrival used to lose it: the open batch was
/// journaled once a second. Now what the monitor shows is in the kernel already.
@Suite("Kill after an arrival", .serialized)
struct KillAfterArrivalTests {
    @Test func anArrivalTheMonitorShowedSurvivesKill9() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: lanegateTool), "build first: swift build --build-tests")
        let dir = temporaryDirectory()
        let reader = try MercuryReaderSimulator(link: dir + "/rfid")
        defer { reader.stop() }
        try tokenA.write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        try await withCollector { url, collector in
            // A batch stays open for ten minutes and a visit for a minute: only the journal can
            // carry an arrival across the kill.
            try """
            [gateway]
            id = "gw-a"
            [collector]
            url = "\(url)/v1/batches"
            token_file = "\(dir)/token"
            allow_plain_http = true
            [spool]
            path = "\(dir)/spool.db"
            min_free_disk = "0"
            [pipeline]
            batch_window = "10min"
            [monitor]
            socket = "\(dir)/monitor.sock"
            [[devices]]
            name = "rfid-a"
            kind = "rfid"
            tty = "\(dir)/rfid"
            antennas = [1]
            cycle = "50ms"
            [[lanes]]
            name = "lane1"
              [[lanes.read_points]]
              name = "booth"
              antennas = [{ device = "rfid-a", ports = [1] }]
              depart_after = "60s"
            """.write(toFile: dir + "/lanegate.toml", atomically: true, encoding: .utf8)

            let tags = (1...4).map { TagID(hex: String(format: "3005fb63ac1f3841ec8804%02x", $0))! }
            for tag in tags {
                let (daemon, log) = try DaemonTests.launchDaemon(config: dir + "/lanegate.toml", environment: [:])
                defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
                var last: String?
                let reading = await eventually(20) {
                    last = monitorLine(dir + "/monitor.sock")
                    return last?.contains("\"reading\"") == true || !daemon.isRunning
                }
                guard reading, daemon.isRunning else {
                    kill(daemon.processIdentifier, SIGKILL)
                    let text = log.text
                    Issue.record("the daemon's reader never read: \(last ?? "no monitor") \(text.prefix(2000))")
                    return
                }
                reader.read(tag, antenna: 1, rssi: -50)
                let shown = await eventually(10) { monitorLine(dir + "/monitor.sock")?.contains(tag.hex) == true }
                try #require(shown, "the monitor showed \(tag.hex)")
                kill(daemon.processIdentifier, SIGKILL)
                await daemon.ended()
            }
            // One more start: it recovers the last journal and delivers it.
            let (daemon, _) = try DaemonTests.launchDaemon(config: dir + "/lanegate.toml", environment: [:])
            defer { kill(daemon.processIdentifier, SIGKILL) }
            var stored = ""
            let all = await eventually(30) {
                stored = (try? await collector.store.events(arrivalsQuery()))?.events.map(\.json).joined(separator: "\n") ?? ""
                return tags.allSatisfy { stored.contains($0.hex) }
            }
            #expect(all, "every arrival the monitor showed reached the collector: \(stored)")
            for tag in tags {
                #expect(stored.components(separatedBy: tag.hex).count - 1 == 1, "\(tag.hex) stored once")
            }
        }
    }
}

func arrivalsQuery() -> EventQuery {
    var q = EventQuery()
    q.gateway = "gw-a"
    q.type = "tag_arrived"
    return q
}

/// One snapshot line from the daemon's monitor socket, or nil when nobody answers.
func monitorLine(_ path: String) -> String? {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard connected == 0 else { return nil }
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var line: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while !line.contains(10) {
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        line += buffer[..<n]
    }
    return String(decoding: line.prefix { $0 != 10 }, as: UTF8.self)
}
