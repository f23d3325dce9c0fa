import Foundation
import LaneCore
@testable import LaneGateway
import Testing
import LaneTOML
import LaneTestSupport

func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
}

@Suite("Configuration")
struct ConfigTests {
    @Test func loadsAValidFile() throws {
        let config = try GatewayConfig.load(path: fixture("booth.toml"))
        #expect(config.gatewayID == "test-gw")
        #expect(config.layout.readPoints.map(\.name) == ["lane1/booth"])
        #expect(config.layout.readPoints[0].antennas.map(\.port) == [3, 4])
        #expect(config.layout.readPoints[0].departAfter == .seconds(3))
        #expect(config.layout.loops.map(\.name) == ["lane1/loop-a"])
        #expect(config.layout.loops[0].debounce == .milliseconds(30))
    }

    /// Every error names the file, the line and the key, and all of them come at once.
    @Test func errorsNameFileLineAndKey() throws {
        let text = try String(contentsOfFile: fixture("booth.toml"), encoding: .utf8)
            .replacingOccurrences(of: "depart_after = \"3s\"", with: "depart_after = \"soon\"")
            .replacingOccurrences(of: "line = 0", with: "line = 0\n  colour = \"red\"")
            .replacingOccurrences(of: "device = \"rfid-lane1\"", with: "device = \"rfid-lane9\"")
        do {
            _ = try GatewayConfig.parse(text, file: "booth.toml")
            Issue.record("accepted a broken file")
        } catch let errors as ConfigErrors {
            let lines = errors.errors.map(\.description)
            #expect(lines.contains { $0.hasPrefix("booth.toml:18: lanes[0].read_points[0].antennas[0].device: no device named \"rfid-lane9\"") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("booth.toml:19: lanes[0].read_points[0].depart_after: must be a duration") && $0.contains("\"3s\"") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("booth.toml:25: lanes[0].loops[0].colour: unknown key") }, "\(lines)")
        }
    }

    @Test func syntaxErrorsCarryTheParsersLine() {
        do {
            _ = try GatewayConfig.parse("[gateway]\nid = \"x\"\n[[lanes]\n", file: "bad.toml")
            Issue.record("accepted bad TOML")
        } catch {
            #expect("\(error)".hasPrefix("bad.toml:3: not valid TOML"), "\(error)")
        }
    }

    @Test func missingGatewayAndLanesAreReported() {
        do {
            _ = try GatewayConfig.parse("", file: "empty.toml")
            Issue.record("accepted an empty file")
        } catch {
            let text = "\(error)"
            #expect(text.contains("empty.toml: gateway: missing table [gateway]"))
            #expect(text.contains("empty.toml: lanes: at least one [[lanes]] entry is required"))
        }
    }

    @Test(arguments: [("3s", Int64(3_000_000_000)), ("500ms", 500_000_000), ("5min", 300_000_000_000),
                      ("1.5s", 1_500_000_000), ("2h", 7_200_000_000_000), ("250us", 250_000), ("7", 7_000_000_000)])
    func durations(text: String, nanoseconds: Int64) {
        #expect(parseDuration(text) == nanoseconds)
    }

    @Test func spoolSettingsAreReadAndCheckedWithTheirLines() throws {
        let config = try GatewayConfig.load(path: fixture("../../../etc/lanegate.toml"))
        #expect(config.spoolPath == "/var/lib/lanegate/spool.db" && config.spoolSettings.durability == .full)
        #expect(config.spoolSettings.maxBytes == 1 << 30 && config.spoolSettings.minFreeDiskBytes == 256 << 20)
        let text = """
            [gateway]
            id = "gw"
            [spool]
            durability = "sometimes"
            max_size = "lots"
            routine_ttl = "30min"
            [[lanes]]
            name = "l"
            """
        do {
            _ = try GatewayConfig.parse(text, file: "s.toml")
            Issue.record("accepted a broken [spool]")
        } catch {
            let text = "\(error)"
            #expect(text.contains("s.toml:4: spool.durability: must be \"full\""), "\(text)")
            #expect(text.contains("s.toml:5: spool.max_size: must be a size"), "\(text)")
        }
        #expect(parseByteSize("512MiB") == 512 << 20 && parseByteSize("2GB") == 2_000_000_000 && parseByteSize("4096") == 4096)
        #expect(parseByteSize("-1") == nil && parseByteSize("big") == nil)
    }

    /// A bare-integer duration of 10^10 seconds used to trap (exit 132) in `config check` and
    /// `run`; absurd numbers anywhere get a file:line error, and a huge bad value is not echoed whole.
    @Test func absurdNumbersAreErrorsWithTheirLine() throws {
        let booth = try String(contentsOfFile: fixture("booth.toml"), encoding: .utf8)
        let cases: [(String, String, String)] = [
            ("depart_after = \"3s\"", "depart_after = 10000000000", "booth.toml:19: lanes[0].read_points[0].depart_after: must be a duration"),
            ("depart_after = \"3s\"", "depart_after = 9223372036854775807", "booth.toml:19: lanes[0].read_points[0].depart_after: must be a duration"),
            ("depart_after = \"3s\"", "depart_after = 1e300", "booth.toml:19: lanes[0].read_points[0].depart_after: must be a duration"),
            ("depart_after = \"3s\"", "depart_after = \"\(String(repeating: "9", count: 100_000))s\"", "booth.toml:19: lanes[0].read_points[0].depart_after: must be a duration"),
            ("[gateway]", "[pipeline]\nbatch_max_events = 100000\n[gateway]", "booth.toml:3: pipeline.batch_max_events: must be a whole number from 1 to 65000"),
        ]
        for (original, replacement, expected) in cases {
            do {
                _ = try GatewayConfig.parse(booth.replacingOccurrences(of: original, with: replacement), file: "booth.toml")
                Issue.record("accepted \(replacement.prefix(60))")
            } catch let errors as ConfigErrors {
                let lines = errors.errors.map(\.description)
                #expect(lines.contains { $0.hasPrefix(expected) }, "\(lines.map { $0.prefix(200) })")
                #expect(lines.allSatisfy { $0.utf8.count < 400 }, "no error line echoes a huge value")
            }
        }
    }

    /// A missing token or CA file was reported without its path, and `config check` called
    /// the file valid.
    @Test func filesTheCollectorTableNamesMustBeReadable() throws {
        let dir = temporaryDirectory("lanegate-config")
        try "\n  \n".write(toFile: dir + "/empty-token", atomically: true, encoding: .utf8)
        let booth = try String(contentsOfFile: fixture("booth.toml"), encoding: .utf8)
        let collector = "\n[collector]\nurl = \"https://collector.example:8443/v1/batches\"\n"
            + "token_file = \"\(dir)/empty-token\"\nca_bundle = \"\(dir)/no-such-ca.pem\"\n"
        let config = try GatewayConfig.parse(booth + collector, file: "booth.toml")
        let errors = config.unreadableFiles(source: "booth.toml").map(\.description)
        #expect(errors == ["booth.toml: collector.token_file: \(dir)/empty-token is empty",
                           "booth.toml: collector.ca_bundle: cannot read \(dir)/no-such-ca.pem: No such file or directory"])
    }

    @Test func badDurations() {
        for text in ["", "-1s", "fast", "3 parsecs", "1e400s"] { #expect(parseDuration(text) == nil, "\(text)") }
    }
}
