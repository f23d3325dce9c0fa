import LaneCore
import Synchronization

/// A loop detector card where no GPIO line exists: the scenario sets its outputs, and the
/// gateway's in-process loop input collects the edges with the times they happened.
public final class LoopCardSimulator: Sendable {
    public struct Edge: Sendable, Hashable {
        public var line: UInt16
        public var occupied: Bool
        public var time: MonotonicInstant
    }

    private let pending = Mutex<[Edge]>([])

    public init() {}

    /// The card's output `line` changes to `occupied` at `time`.
    public func set(line: UInt16, occupied: Bool, at time: MonotonicInstant = .now()) {
        pending.withLock { $0.append(Edge(line: line, occupied: occupied, time: time)) }
    }

    /// Edges since the last call, oldest first.
    public func takeEdges() -> [Edge] {
        pending.withLock { edges in
            defer { edges.removeAll(keepingCapacity: true) }
            return edges
        }
    }
}
