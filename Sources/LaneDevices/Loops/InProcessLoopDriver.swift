import LaneCore
import Synchronization

/// Loop inputs from a source in the same process: a simulated loop card where no GPIO line
/// exists (demos and tests on machines without a GPIO chip). The source hands over edges with
/// the times they happened; the driver feeds them through the same ring and status path as
/// real inputs.
public struct InProcessLoopDriver: DeviceDriver {
    public struct Edge: Sendable, Hashable {
        public var line: UInt16
        public var occupied: Bool
        public var time: MonotonicInstant
        public init(line: UInt16, occupied: Bool, time: MonotonicInstant) {
            self.line = line
            self.occupied = occupied
            self.time = time
        }
    }

    public let label: String
    /// Edges that happened since the last call, oldest first.
    public let poll: @Sendable () -> [Edge]

    public init(label: String, poll: @escaping @Sendable () -> [Edge]) {
        self.label = label
        self.poll = poll
    }

    public func session(_ context: DeviceContext) throws(DeviceError) {
        context.report(.connected, label)
        context.report(.reading, "\(label): simulated loop card")
        while !context.shouldStop {
            for edge in poll() {
                context.counters.frames.add(1, ordering: .relaxed)
                context.emit(.loop(LoopEdge(line: edge.line, occupied: edge.occupied)), at: edge.time)
            }
            _ = context.stop.sleep(.milliseconds(20))
        }
    }
}
