import Foundation
@testable import LaneGateway
import Testing
import LaneTOML

@Suite("Configuration reload plan")
struct ConfigReloadTests {
    static let base = """
        [gateway]
        id = "gw-a"
        [metrics]
        listen = "127.0.0.1:9464"
        [[devices]]
        name = "rfid-a"
        kind = "rfid"
        tty = "/dev/lanegate/rfid-a"
        [[lanes]]
        name = "lane1"
          [[lanes.read_points]]
          name = "booth"
          antennas = [{ device = "rfid-a", ports = [1] }]
        """

    @Test func commentsAndLayoutAreNotChanges() {
        let reformatted = "# the booth\n" + Self.base.replacingOccurrences(of: "name = \"lane1\"", with: "name   =   \"lane1\"  # north")
        #expect(ConfigReload.changedTables(from: Self.base, to: reformatted).isEmpty)
    }

    @Test func metricsApplyNowAndDevicesWaitUntilChangedBack() throws {
        let path = NSTemporaryDirectory() + "reload-\(UUID().uuidString).toml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let moved = Self.base.replacingOccurrences(of: "9464", with: "9465")
            .replacingOccurrences(of: "kind = \"rfid\"\n", with: "kind = \"rfid\"\nbaud = 57600\n")
        try moved.write(toFile: path, atomically: true, encoding: .utf8)
        let first = try ConfigReload(path: path, lastText: Self.base, startText: Self.base)
        #expect(first.changed == ["devices", "metrics"])
        #expect(first.appliedNow == ["metrics"])
        #expect(first.needRestart == ["devices"])
        #expect(first.config.metricsListen?.port == 9465)

        let back = Self.base.replacingOccurrences(of: "9464", with: "9465")
        try back.write(toFile: path, atomically: true, encoding: .utf8)
        let second = try ConfigReload(path: path, lastText: first.text, startText: Self.base)
        #expect(second.changed == ["devices"])
        #expect(second.needRestart.isEmpty, "devices are as at start again")
    }

    @Test func aBrokenFileIsRefusedWithItsLine() throws {
        let path = NSTemporaryDirectory() + "reload-\(UUID().uuidString).toml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.base.replacingOccurrences(of: "kind = \"rfid\"", with: "kind = \"radar\"").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigErrors.self) { try ConfigReload(path: path, lastText: Self.base, startText: Self.base) }
        do { _ = try ConfigReload(path: path, lastText: Self.base, startText: Self.base) } catch {
            #expect("\(error)".contains("\(path):7: devices[0].kind"), "\(error)")
        }
    }
}
