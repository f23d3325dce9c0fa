import Foundation
import LaneCore
import LaneSimulators
import LaneTestSupport
import Testing

/// The LLRP reader simulator with a client nobody here wrote: sllurp (PyPI), through its own
/// library client, installed by Tests/LLRP/install-sllurp.sh into .build/sllurp-venv.
@Suite("LLRP with an independent client") struct LLRPPeerTests {
    static let venv = repositoryRoot.appendingPathComponent(".build/sllurp-venv").path
    static let python = venv + "/bin/python"
    static let script = repositoryRoot.appendingPathComponent("Tests/LLRP/sllurp_inventory.py").path
    /// Why there is no sllurp here, when PyPI could not be reached at install time.
    static let unavailable = try? String(contentsOfFile: venv + "/UNAVAILABLE", encoding: .utf8)

    struct Seen: Sendable {
        var tags: [(epc: String, antenna: Int, t: Double)] = []
        var inventorying = false
        var done = ""
    }

    /// Runs sllurp for `duration` seconds against `port`; `whenInventorying` runs once its ROSpec
    /// is enabled.
    static func inventory(port: UInt16, duration: Double, whenInventorying: @escaping @Sendable () -> Void) async throws -> Seen {
        let output = temporaryDirectory() + "/sllurp.jsonl"
        let process = try launchTool(python, [script, "127.0.0.1", "\(port)", "\(duration)"], stdout: output)
        var seen = Seen()
        var told = false
        // sllurp stops itself after `duration`; a peer that hangs past that is killed below.
        let deadline = ContinuousClock.now + .seconds(duration + 60)
        while process.isRunning, ContinuousClock.now < deadline {
            let lines = ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").split(separator: "\n")
            if !told, lines.contains(where: { $0.contains("\"inventorying\"") }) {
                told = true
                whenInventorying()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        await process.ended(within: .seconds(5))
        for line in ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            switch object["event"] as? String {
            case "inventorying": seen.inventorying = true
            case "tag": seen.tags.append((object["epc"] as? String ?? "", object["antenna"] as? Int ?? 0, object["t"] as? Double ?? -1))
            case "done", "failed": seen.done = object["state"] as? String ?? ""
            default: break
            }
        }
        return seen
    }

    @Test(.enabled(if: unavailable == nil, "PyPI could not be reached when Tests/LLRP/install-sllurp.sh ran"))
    func sllurpTakesInventoryAndItsROSpecStopsWhenItSays() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python), "run Tests/LLRP/install-sllurp.sh first")
        let reader = try LLRPReaderSimulator()
        defer { reader.stop() }
        let early = (1...3).map { TagID(hex: "30140000000000000000000\($0)")! }
        let late = (4...6).map { TagID(hex: "30140000000000000000000\($0)")! }
        // Three tags in the field before sllurp comes (inventoried once its ROSpec starts), three
        // more a second after the ROSpec's 2 s are over.
        for (i, tag) in early.enumerated() { reader.read(tag, antenna: UInt16(i % 2 + 1), rssi: -50) }
        let seen = try await Self.inventory(port: reader.port, duration: 2) {
            Task.detached {
                try? await Task.sleep(for: .seconds(3))
                for tag in late { reader.read(tag, antenna: 1, rssi: -50) }
            }
        }
        #expect(seen.inventorying, "sllurp never reached inventory: \(seen.done)")
        #expect(Set(seen.tags.map(\.epc)) == Set(early.map(\.hex)), "sllurp saw \(seen.tags.map(\.epc))")
        #expect(Set(seen.tags.map(\.antenna)) == [1, 2])
        #expect(seen.tags.allSatisfy { $0.t < 3 }, "a report after the ROSpec's duration: \(seen.tags)")
        let counts = reader.counts
        #expect(counts.stoppedByTrigger == 1, "the ROSpec's Duration stop trigger ended it")
        #expect(counts.startTrigger == 1, "sllurp's ROSpec starts Immediate")
        // sllurp's whole flow, in order, each message answered as the standard says.
        for type: UInt16 in [1, 2, 3, 41, 21, 20, 24] { #expect(counts.received.contains(type), "message type \(type) never came") }
        #expect(!counts.received.contains(22), "an Immediate ROSpec needs no START_ROSPEC")
    }

    @Test(.enabled(if: unavailable == nil, "PyPI could not be reached when Tests/LLRP/install-sllurp.sh ran"))
    func sllurpReadsTheScenarioThroughLanegateSimulate() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python), "run Tests/LLRP/install-sllurp.sh first")
        try #require(FileManager.default.isExecutableFile(atPath: lanegateTool), "build first: swift build --build-tests")
        let directory = temporaryDirectory()
        let log = directory + "/simulate.txt"
        let simulate = try launchTool(lanegateTool, ["simulate", "--directory", directory, "--lanes", "1", "--vehicles", "3",
                                                     "--time-scale", "0.02", "--llrp-port", "0"], stdout: log)
        defer { simulate.terminate() }
        var text = ""
        for _ in 0..<100 where !text.contains("playing ") {
            try await Task.sleep(for: .milliseconds(100))
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        }
        func field(_ prefix: String, until end: String) -> String? {
            guard let start = text.range(of: prefix) else { return nil }
            return String(text[start.upperBound...].prefix { !end.contains($0) })
        }
        let port = try #require(field("LLRP reader at 127.0.0.1:", until: "\n").flatMap { UInt16($0) }, "\(text)")
        let tags = Set(try #require(field("will read: ", until: "\n"), "\(text)").split(separator: ",").map(String.init))
        let seconds = try #require(field(" over ", until: " ").flatMap { Double($0) }, "\(text)")
        let seen = try await Self.inventory(port: port, duration: seconds + 1) {}
        #expect(seen.inventorying, "sllurp never reached inventory: \(seen.done)")
        #expect(!tags.isEmpty)
        #expect(Set(seen.tags.map(\.epc)) == tags, "sllurp saw \(Set(seen.tags.map(\.epc))), the scenario has \(tags)")
    }
}
