import ArgumentParser
import LaneCore
import LaneDevices
import LaneGateway
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `lanegate record`: raw detections from the configured devices into a trace, as they are born,
/// for `lanegate replay` to play back (the way gpsd's logs feed gpsfake).
struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record raw detections from the configured devices into a trace (JSON Lines) for lanegate replay.",
        discussion: """
            Device state changes go into the trace as comment lines. Stops after --seconds, or on \
            Ctrl-C / SIGTERM. Stop the daemon first: it holds the devices.
            """)

    @Option(help: "The configuration file.") var config = "/etc/lanegate/lanegate.toml"
    @Option(help: "The trace file to write (- for standard output).") var output = "-"
    @Option(help: "Stop after this many seconds (0: until interrupted).") var seconds = 0

    func run() async throws {
        let settings: GatewayConfig
        do { settings = try GatewayConfig.load(path: config) } catch { fail(error) }
        let out: FileOutput
        if output == "-" { out = FileOutput.standardOutput } else {
            guard let file = FileOutput(path: output) else { fail(SpoolUnavailable(message: "cannot write \(output)")) }
            out = file
        }
        signal(SIGINT) { _ in recordInterrupted.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in recordInterrupted.store(true, ordering: .relaxed) }

        let layout = settings.layout
        let board = DeviceStatusBoard(devices: layout.devices.count)
        let supervisor = DeviceSupervisor(board: board)
        let rings = layout.devices.map { _ in SPSCRing<Detection>(capacity: 8192) }
        let started = supervisor.start(config: settings, rings: rings)
        let consumers = layout.devices.indices.filter { started[$0] != nil }.map { RingBox(rings[$0], name: layout.devices[$0].name) }
        out.write("# lanegate record: gateway \(settings.gatewayID), \(consumers.count) devices\n")
        let end = seconds > 0 ? MonotonicInstant.now().advanced(by: .seconds(Int64(seconds))) : .distantFuture
        var batch: [Detection] = []
        while !recordInterrupted.load(ordering: .relaxed) && MonotonicInstant.now() < end {
            try? await Task.sleep(for: .milliseconds(200))
            for change in board.takeChanges() {
                out.write("# \(layout.deviceName(change.device)) \(change.state.name): \(change.detail)\n")
            }
            for box in consumers { box.drain(into: &batch) }
            batch.sort { $0.time < $1.time }
            for d in batch { out.write(TraceLine(time: d.time, device: layout.deviceName(d.device), payload: d.payload).json + "\n") }
            batch.removeAll(keepingCapacity: true)
            out.flush()
        }
        supervisor.stop()
        for box in consumers {
            box.drain(into: &batch)
            if box.drops > 0 { out.write("# \(box.name): \(box.drops) detections dropped (ring full)\n") }
        }
        for d in batch.sorted(by: { $0.time < $1.time }) {
            out.write(TraceLine(time: d.time, device: layout.deviceName(d.device), payload: d.payload).json + "\n")
        }
        out.flush()
    }
}

private let recordInterrupted = Atomic<Bool>(false)

/// A device's ring, drained by the recorder.
private final class RingBox {
    let name: String
    private var consumer: RingConsumer<Detection>
    private(set) var drops: UInt64 = 0

    init(_ ring: SPSCRing<Detection>, name: String) {
        self.name = name
        consumer = RingConsumer(ring)
    }

    func drain(into batch: inout [Detection]) {
        _ = consumer.popBatch(limit: .max) { batch.append($0) }
        drops += consumer.takeDrops()
    }
}
