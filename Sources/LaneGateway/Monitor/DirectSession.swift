import LaneCore
import LaneDevices
import Synchronization

/// `lanegate monitor` with the daemon stopped: the configured devices opened here through the
/// same drivers, rings and pipeline as `lanegate run`, into a ``LaneActivity``. Nothing is
/// spooled or sent: this is for seeing that the hardware works.
public final class DirectSession: Sendable {
    public let sources: MonitorSources
    private let supervisor: DeviceSupervisor
    private let stopSignal = StopSignal()
    private let thread = Mutex<DedicatedThread?>(nil)

    public init(config: GatewayConfig, pseudonymizer: TagPseudonymizer?) {
        let board = DeviceStatusBoard(devices: config.layout.devices.count)
        supervisor = DeviceSupervisor(board: board)
        let rings = config.layout.devices.map { _ in SPSCRing<Detection>(capacity: 4096) }
        let counters = supervisor.start(config: config, rings: rings)
        let activity = LaneActivity(layout: config.layout)
        sources = MonitorSources(gateway: config.gatewayID, source: "direct", activity: activity, board: board, counters: counters)
        let live = LivePipeline(pipeline: LanePipeline(layout: config.layout, pseudonymizer: pseudonymizer), rings: rings,
                                board: board, activity: activity)
        let work = Work(live: live)
        let started = DedicatedThread(name: "monitor") { [stopSignal] in work.run(stop: stopSignal) }
        thread.withLock { $0 = started }
    }

    /// Closes the devices and ends the pipeline thread.
    public func stop() {
        supervisor.stop()
        stopSignal.set()
        thread.withLock { thread in
            thread?.join()
            thread = nil
        }
    }
}

/// Owned by the session's pipeline thread alone; the pipeline feeds the activity itself.
private final class Work: @unchecked Sendable {
    let live: LivePipeline
    var events: [LaneEvent] = []

    init(live: LivePipeline) { self.live = live }

    func run(stop: StopSignal) {
        while !stop.isSet {
            live.step(now: .now(), into: &events)
            events.removeAll(keepingCapacity: true)
            _ = stop.sleep(.milliseconds(20))
        }
    }
}
