import LaneCore
import Synchronization

/// Every device's supervision state, and the changes not yet turned into events. Drivers write
/// from their threads; the pipeline thread drains the changes into `device_status` events, and
/// the monitor and metrics read the current states.
public final class DeviceStatusBoard: Sendable {
    public struct Entry: Sendable, Hashable {
        public var state: DeviceState?
        public var detail: String
        public var since: MonotonicInstant
    }

    private struct Board {
        var entries: [Entry]
        var pending: [DeviceStatusChange] = []
    }

    private let board: Mutex<Board>
    /// Changes held for the pipeline at most; past this the oldest go (a flapping device must
    /// not grow memory), and are counted.
    private let pendingLimit = 1024
    private let droppedChanges = Atomic<UInt64>(0)

    public init(devices: Int) {
        board = Mutex(Board(entries: Array(repeating: Entry(state: nil, detail: "", since: .zero), count: devices)))
    }

    /// Records a state; a repeat of the current state and detail is not a change and is not
    /// reported again, so a device failing the same way on every retry reports once.
    public func report(_ device: DeviceIndex, _ state: DeviceState, _ detail: String, at time: MonotonicInstant = .now()) {
        let dropped: Bool = board.withLock { board in
            let i = Int(device.rawValue)
            guard i < board.entries.count else { return false }
            guard board.entries[i].state != state || board.entries[i].detail != detail else { return false }
            board.entries[i] = Entry(state: state, detail: detail, since: time)
            board.pending.append(DeviceStatusChange(device: device, state: state, detail: detail, time: time))
            guard board.pending.count > pendingLimit else { return false }
            board.pending.removeFirst()
            return true
        }
        if dropped { droppedChanges.add(1, ordering: .relaxed) }
    }

    /// Changes since the last call, oldest first.
    public func takeChanges() -> [DeviceStatusChange] {
        board.withLock { board in
            defer { board.pending.removeAll(keepingCapacity: true) }
            return board.pending
        }
    }

    public var entries: [Entry] { board.withLock { $0.entries } }
    public var droppedChangeCount: UInt64 { droppedChanges.load(ordering: .relaxed) }
}
