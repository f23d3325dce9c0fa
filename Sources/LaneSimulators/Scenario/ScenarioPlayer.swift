import LaneCore
import Synchronization

/// Plays generated lane traffic in real time through device simulators: each detection is
/// handed to `deliver` when its moment comes, re-timed so the scenario starts now. Deliveries
/// carry the detection's own instant, so a simulator that stamps reads (a reader's clock) keeps
/// the scenario's timing even when the player wakes a little late.
public final class ScenarioPlayer: Sendable {
    /// Something done to the hardware at a scenario instant: unplug a reader, plug it back.
    public struct Action: Sendable {
        public var time: MonotonicInstant
        public var run: @Sendable () -> Void
        public init(at time: MonotonicInstant, _ run: @escaping @Sendable () -> Void) {
            self.time = time
            self.run = run
        }
    }

    private let detections: [Detection]
    private let actions: [Action]
    private let deliver: @Sendable (Detection) -> Void
    private let running = Atomic<Bool>(true)
    private let delivered = Atomic<Int>(0)
    private let thread = Mutex<DedicatedThread?>(nil)
    /// The local instant the scenario's first detection maps to.
    public let offset: Nanoseconds

    /// `lead` is the pause before the first detection, so drivers are reading when it comes.
    public init(_ detections: [Detection], actions: [Action] = [], lead: Nanoseconds = .milliseconds(500),
                deliver: @escaping @Sendable (Detection) -> Void) {
        let start = MonotonicInstant.now().advanced(by: lead)
        let first = detections.first?.time ?? start
        offset = start.since(first)
        self.detections = detections.map { d in
            var moved = d
            moved.time = d.time.advanced(by: start.since(first))
            return moved
        }
        self.actions = actions.map { Action(at: $0.time.advanced(by: start.since(first)), $0.run) }.sorted { $0.time < $1.time }
        self.deliver = deliver
        let started = DedicatedThread(name: "scenario") { [self] in play() }
        thread.withLock { $0 = started }
    }

    /// The local instant at which a scenario instant is played.
    public func local(_ scenarioTime: MonotonicInstant) -> MonotonicInstant { scenarioTime.advanced(by: offset) }

    public var finished: Bool { delivered.load(ordering: .acquiring) == detections.count }
    public var progress: (delivered: Int, total: Int) { (delivered.load(ordering: .relaxed), detections.count) }
    /// When the last detection or action is due.
    public var end: MonotonicInstant { max(detections.last?.time ?? .now(), actions.last?.time ?? .zero) }

    public func stop() {
        running.store(false, ordering: .releasing)
        thread.withLock { $0 }?.join()
    }

    private func play() {
        var nextAction = 0
        for detection in detections {
            while nextAction < actions.count && actions[nextAction].time <= detection.time {
                guard wait(until: actions[nextAction].time) else { return }
                actions[nextAction].run()
                nextAction += 1
            }
            guard wait(until: detection.time) else { return }
            deliver(detection)
            delivered.add(1, ordering: .releasing)
        }
        for action in actions[nextAction...] {
            guard wait(until: action.time) else { return }
            action.run()
        }
    }

    /// False when stopped first.
    private func wait(until time: MonotonicInstant) -> Bool {
        while running.load(ordering: .acquiring) {
            let wait = time.since(.now())
            if wait <= 0 { return true }
            var pause = timespec(tv_sec: 0, tv_nsec: Int(min(wait, .milliseconds(20))))
            nanosleep(&pause, nil)
        }
        return false
    }
}

#if canImport(Glibc)
import Glibc
#endif
