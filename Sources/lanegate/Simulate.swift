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
        With --plate-listener ADDRESS:PORT, each lane also has a plate camera (cam-laneN) that
        pushes its reads there over HTTP: lane 1 as a Hikvision camera, lane 2 as Plate
        Recognizer Stream, lane 3 as Rekor Scout, and round again; its token is DIR/cam-laneN.token.
        """)

    @Option(help: "Directory for the device links.") var directory = "/tmp/lanegate-sim"
    @Option(help: "Random seed: the same seed gives the same traffic.") var seed: UInt64 = 1
    @Option(help: "Lanes in the booth.") var lanes: Int = 2
    @Option(help: "Vehicles to send through (0: devices only, no traffic).") var vehicles: Int = 20
    @Option(help: "Queueing and dwell time multiplier (0.1 plays ten minutes in one).") var timeScale: Double = 0.1
    @Option(help: "Serve a device on a unix socket instead of a pty, e.g. rfid-lane1=/tmp/q/rfid0.sock.")
    var socket: [String] = []
    @Option(help: "Also run an LLRP reader (lane 1's antennas) on this loopback port.") var llrpPort: UInt16?
    @Option(help: "Push plate cameras' reads to the gateway's [plate_listener] at this IPv4 address:port.") var plateListener: String?

    func validate() throws {
        guard (1...16).contains(lanes) else { throw ValidationError("--lanes must be 1 to 16") }
        guard timeScale > 0 else { throw ValidationError("--time-scale must be above 0") }
        if let plateListener, plateListener.split(separator: ":").count != 2 || UInt16(plateListener.split(separator: ":").last ?? "") == nil {
            throw ValidationError("--plate-listener takes ADDRESS:PORT, got '\(plateListener)'")
        }
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
        var cameras: PlateCameraPusher?
        if let plateListener {
            traffic.plateCameras = .init()
            let parts = plateListener.split(separator: ":")
            var tokens: [String] = []
            for lane in 1...lanes {
                let token = "camera-token-\(UInt64.random(in: 1...UInt64.max))"
                guard let file = fopen("\(directory)/cam-lane\(lane).token", "w") else { throw ValidationError("cannot write \(directory)/cam-lane\(lane).token") }
                fputs(token + "\n", file)
                fclose(file)
                tokens.append(token)
            }
            let pusher = PlateCameraPusher(host: String(parts[0]), port: UInt16(parts[1])!, lanes: lanes, tokens: tokens)
            for lane in 1...lanes {
                out.write("cam-lane\(lane): pushes to http://\(plateListener)/v1/plates/cam-lane\(lane) as format \"\(pusher.gatewayFormat(lane: lane))\", token_file \(directory)/cam-lane\(lane).token\n")
            }
            cameras = pusher
        }
        let output = traffic.generate()
        let pushes = cameras.map { pusher in
            output.cameraPushes.map { push in ScenarioPlayer.Action(at: push.time) { pusher.push(push, utc: ClockAnchor.now().utcNanoseconds) } }
        } ?? []
        let player = ScenarioPlayer(output.detections, actions: pushes, lead: .seconds(3)) { d in
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
        if let cameras { out.write("camera pushes answered: \(cameras.answers.sorted { $0.key < $1.key }.map { "\($0.key == 0 ? "none" : String($0.key)) ×\($0.value)" }.joined(separator: ", "))\n") }
        out.write("scenario done; devices keep answering until stopped\n")
        out.flush()
        while true { sleep(60) }
    }
}
