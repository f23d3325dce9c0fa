import LaneCore
import Synchronization

/// Plays generated lane traffic in real time through device simulators: each detection is
/// handed to `deliver` when its moment comes, re-timed so the scenario starts now. Deliveries
/// carry the detection's own instant, so a simulator that stamps reads (a reader's clock) keeps
/// the scenario's timing even when the player wakes a little late.
public final class ScenarioPlayer: Sendable {
    private let detections: [Detection]
    private let deliver: @Sendable (Detection) -> Void
    private let running = Atomic<Bool>(true)
    private let delivered = Atomic<Int>(0)
    private let thread = Mutex<DedicatedThread?>(nil)
    /// The local instant the scenario's first detection maps to.
    public let offset: Nanoseconds

    /// `lead` is the pause before the first detection, so drivers are reading when it comes.
    public init(_ detections: [Detection], lead: Nanoseconds = .milliseconds(500),
                deliver: @escaping @Sendable (Detection) -> Void) {
        let start = MonotonicInstant.now().advanced(by: lead)
        let first = detections.first?.time ?? start
        offset = start.since(first)
        self.detections = detections.map { d in
            var moved = d
            moved.time = d.time.advanced(by: start.since(first))
            return moved
        }
        self.deliver = deliver
        let started = DedicatedThread(name: "scenario") { [self] in play() }
        thread.withLock { $0 = started }
    }

    /// The local instant at which a scenario instant is played.
    public func local(_ scenarioTime: MonotonicInstant) -> MonotonicInstant { scenarioTime.advanced(by: offset) }

    public var finished: Bool { delivered.load(ordering: .acquiring) == detections.count }
    public var progress: (delivered: Int, total: Int) { (delivered.load(ordering: .relaxed), detections.count) }
    /// When the last detection is due.
    public var end: MonotonicInstant { detections.last?.time ?? .now() }

    public func stop() {
        running.store(false, ordering: .releasing)
        thread.withLock { $0 }?.join()
    }

    private func play() {
        for detection in detections {
            while running.load(ordering: .acquiring) {
                let wait = detection.time.since(.now())
                if wait <= 0 { break }
                var pause = timespec(tv_sec: 0, tv_nsec: Int(min(wait, .milliseconds(20))))
                nanosleep(&pause, nil)
            }
            guard running.load(ordering: .acquiring) else { return }
            deliver(detection)
            delivered.add(1, ordering: .releasing)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
