import Foundation
import LaneCore
@testable import LaneGateway
import Testing
import LaneTOML
import LaneTestSupport

/// `kind = "camera"` devices and `[plate_listener]`: what a site writes, and what it is told
/// when the file would send raw plates, listen on every interface, or name no listener.
@Suite("Plate camera configuration")
struct PlateCameraConfigTests {
    func file(privacy: Bool = true, rawPlates: Bool? = nil, listen: String? = "192.168.10.2:8480", format: String = "hikvision-isapi",
              tokenFile: String = "/etc/lanegate/cam-1.token") -> String {
        """
        [gateway]
        id = "gw-a"
        \(privacy ? "[privacy]\nhash_tag_ids = true\nkey_file = \"/etc/lanegate/site.key\"" : "")
        \(listen.map { "[plate_listener]\nlisten = \"\($0)\"\nmax_body = \"2MiB\"" } ?? "")
        [[devices]]
        name = "cam-1"
        kind = "camera"
        format = "\(format)"
        token_file = "\(tokenFile)"
        \(rawPlates.map { "raw_plates = \($0)" } ?? "")
        [[lanes]]
        name = "lane1"
          [[lanes.read_points]]
          name = "plate"
          antennas = [{ device = "cam-1", ports = [1] }]
        """
    }

    func errors(_ text: String) -> [String] {
        do {
            _ = try GatewayConfig.parse(text, file: "lanegate.toml")
            return []
        } catch let errors as ConfigErrors {
            return errors.errors.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func aCameraIsADeviceWithAReadPointAndAListener() throws {
        let config = try GatewayConfig.parse(file(), file: "lanegate.toml")
        #expect(config.layout.devices.map(\.kind) == [.camera] && !config.layout.devices[0].keepsRawPlates)
        #expect(config.plateCameras == [PlateCameraSetup(device: DeviceIndex(0), format: .hikvisionISAPI, tokenFile: "/etc/lanegate/cam-1.token")])
        #expect(config.plateListener == PlateListener.Settings(host: "192.168.10.2", port: 8480, maxBodyBytes: 2 << 20))
        #expect(config.layout.readPoints.first?.antennas == [LaneLayout.Antenna(device: DeviceIndex(0), port: 1)])
        #expect(config.deviceSetups.count == 1 && config.deviceSetups[0] == nil, "a camera has no driver: it pushes")
    }

    @Test func rawPlatesNeedSayingSoAndPseudonymsNeedTheSiteKey() throws {
        let lines = errors(file(privacy: false))
        #expect(lines.contains { $0.contains("devices[0]") && $0.contains("raw_plates = true") }, "\(lines)")
        let raw = try GatewayConfig.parse(file(privacy: false, rawPlates: true), file: "lanegate.toml")
        #expect(raw.layout.devices[0].keepsRawPlates)
    }

    @Test(arguments: ["0.0.0.0:8480", "[::]:8480", "*:8480"])
    func theListenerNamesOneAddressNotEveryInterface(_ listen: String) {
        let lines = errors(file(listen: listen))
        #expect(lines.contains { $0.contains("plate_listener.listen") && $0.contains("not every interface") }, "\(lines)")
    }

    @Test func mistakesAreNamedWithTheirKeys() {
        #expect(errors(file(listen: nil)).contains { $0.contains("plate_listener") && $0.contains("camera devices push") })
        #expect(errors(file(listen: "8480")).contains { $0.contains("plate_listener.listen: must be \"address:port\"") })
        #expect(errors(file(format: "axis")).contains { $0.contains("devices[0].format") && $0.contains("\"json-webhook\"") })
        #expect(errors(file(tokenFile: "cam.token")).contains { $0.contains("devices[0].token_file: must be an absolute path") })
    }

    /// The token is read at start: too short a token stops the gateway with the file's name.
    @Test func aShortTokenIsRefusedAtStart() throws {
        let dir = temporaryDirectory()
        try "short\n".write(toFile: dir + "/cam.token", atomically: true, encoding: .utf8)
        let setup = PlateCameraSetup(device: DeviceIndex(0), format: .jsonWebhook, tokenFile: dir + "/cam.token")
        #expect(throws: ConfigError.self) { try setup.camera(name: "cam-1") }
        try "  a token of twenty-four \r\nsecond line".write(toFile: dir + "/cam.token", atomically: true, encoding: .utf8)
        let camera = try setup.camera(name: "cam-1")
        #expect(camera.accepts("a token of twenty-four") && !camera.accepts("a token of twenty-four ") && !camera.accepts(""))
    }

    func passageFile(_ passage: String) -> String {
        file() + """

          [[lanes.loops]]
          name = "loop-b"
          device = "loops"
          line = 1
          [lanes.passage]
        \(passage)
        [[devices]]
        name = "loops"
        kind = "loops"
        """
    }

    @Test func aLaneJoinsItsReadsIntoPassagesWhenItSaysWhich() throws {
        let config = try GatewayConfig.parse(passageFile("loop = \"loop-b\"\nread_points = [\"plate\"]\nwindow = \"3s\""), file: "lanegate.toml")
        #expect(config.layout.passages == [LaneLayout.PassageRule(loop: 0, readPoints: [0], window: .seconds(3))])
        let lines = errors(passageFile("loop = \"loop-z\"\nread_points = [\"gate\"]"))
        #expect(lines.contains { $0.contains("lanes[0].passage.loop: no loop named \"loop-z\"") }, "\(lines)")
        #expect(lines.contains { $0.contains("lanes[0].passage.read_points: no read point named \"gate\"") }, "\(lines)")
    }
}
