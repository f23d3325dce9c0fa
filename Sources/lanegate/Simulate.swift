import ArgumentParser
import LaneCore
import LaneSimulators
#if canImport(Glibc)
import Glibc
#endif

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run simulated lane hardware that speaks the real protocols, and play booth traffic through it.",
        discussion: """
        Per lane a Mercury-protocol RFID reader, plus one e-seal receiver, each on a pty reachable
        at DIR/rfid-laneN and DIR/eseal (point a tty device of the configuration there), or on a
        unix socket with --socket NAME=PATH (QEMU's emulated USB serial adapter). With --llrp-port
        an LLRP reader also listens on 127.0.0.1. Loop cards have no wire to another process:
        they are simulated inside the gateway (lanegate demo) or driven on a GPIO line.
        Reads carry the reader's own timestamps, so the scenario keeps its timing.
        """)

    @Option(help: "Directory for the device links.") var directory = "/tmp/lanegate-sim"
    @Option(help: "Random seed: the same seed gives the same traffic.") var seed: UInt64 = 1
    @Option(help: "Lanes in the booth.") var lanes: Int = 2
    @Option(help: "Vehicles to send through (0: devices only, no traffic).") var vehicles: Int = 20
    @Option(help: "Queueing and dwell time multiplier (0.1 plays ten minutes in one).") var timeScale: Double = 0.1
    @Option(help: "Serve a device on a unix socket instead of a pty, e.g. rfid-lane1=/tmp/q/rfid0.sock.")
    var socket: [String] = []
    @Option(help: "Also run an LLRP reader (lane 1's antennas) on this loopback port.") var llrpPort: UInt16?

    func validate() throws {
        guard (1...16).contains(lanes) else { throw ValidationError("--lanes must be 1 to 16") }
        guard timeScale > 0 else { throw ValidationError("--time-scale must be above 0") }
        for entry in socket where entry.split(separator: "=").count != 2 {
            throw ValidationError("--socket takes NAME=PATH, got '\(entry)'")
        }
    }

    func run() throws {
        mkdir(directory, 0o755)
        let sockets = Dictionary(uniqueKeysWithValues: socket.map { entry -> (String, String) in
            let parts = entry.split(separator: "=", maxSplits: 1)
            return (String(parts[0]), String(parts[1]))
        })
        func line(_ name: String) throws -> any SerialLine {
            if let path = sockets[name] { return UnixSocketLine(path: path) }
            return try PseudoTerminal(link: "\(directory)/\(name)")
        }
        let out = FileOutput.standardOutput
        let readers = try (1...lanes).map { lane in MercuryReaderSimulator(line: try line("rfid-lane\(lane)")) }
        let receiver = ESealReceiverSimulator(line: try line("eseal"))
        let llrp = try llrpPort.map { try LLRPReaderSimulator(port: $0) }
        for lane in 1...lanes { out.write("rfid-lane\(lane): Mercury reader at \(sockets["rfid-lane\(lane)"] ?? "\(directory)/rfid-lane\(lane)")\n") }
        out.write("eseal: e-seal receiver at \(sockets["eseal"] ?? "\(directory)/eseal")\n")
        if let llrp { out.write("llrp: LLRP reader at 127.0.0.1:\(llrp.port)\n") }
        out.flush()

        var traffic = BoothTraffic(seed: seed, lanes: lanes, vehicles: vehicles)
        traffic.timeScale = timeScale
        let output = traffic.generate()
        let player = ScenarioPlayer(output.detections, lead: .seconds(3)) { d in
            switch d.payload {
            case .tag(let read) where Int(d.device.rawValue) < readers.count:
                readers[Int(d.device.rawValue)].read(read.tag, antenna: read.antenna, rssi: read.rssi, at: d.time)
                if d.device.rawValue == 0 { llrp?.read(read.tag, antenna: UInt16(read.antenna), rssi: read.rssi, at: d.time) }
            case .seal(let report): receiver.hear(report)
            default: break  // loop edges: see the discussion
            }
        }
        if llrp != nil {
            let tags = Set(output.truth.visits.filter { $0.readPoint.hasPrefix("lane1/") }.map(\.tag.hex)).sorted()
            out.write("llrp: the tags lane 1's antennas will read: \(tags.joined(separator: ","))\n")
        }
        out.write("playing \(vehicles) vehicles (\(output.truth.visits.count) tag visits, \(output.truth.tampers.count) tampers) "
                  + "over \(player.end.since(.now()) / 1_000_000_000) s; Ctrl-C stops\n")
        out.flush()
        while !player.finished { sleep(1) }
        out.write("scenario done; devices keep answering until stopped\n")
        out.flush()
        while true { sleep(60) }
    }
}
