import Synchronization

/// The bounded queue between the booth listener's request handlers (many, concurrent) and the
/// pipeline thread (one). A camera pushes once per vehicle, so a lock costs nothing here; what
/// matters is the bound: when the pipeline stalls, a flood of pushes is refused and counted,
/// never held in memory.
public final class PlateInbox: Sendable {
    public let capacity: Int
    private let queue: Mutex<Queue>

    private struct Queue {
        var sightings: [PlateSighting] = []
        /// Refused for a full inbox and not yet reported by ``take(into:)``.
        var unreportedDrops: [DeviceIndex: UInt64] = [:]
        var totalDrops: UInt64 = 0
    }

    public init(capacity: Int = 1024) {
        precondition(capacity > 0)
        self.capacity = capacity
        queue = Mutex(Queue())
    }

    /// False when the inbox is full: the read is dropped and counted against its camera.
    public func push(_ sighting: PlateSighting) -> Bool {
        queue.withLock { q in
            guard q.sightings.count < capacity else {
                q.unreportedDrops[sighting.device, default: 0] += 1
                q.totalDrops += 1
                return false
            }
            q.sightings.append(sighting)
            return true
        }
    }

    /// Moves every waiting read into `out`, and returns the drops since the last call, by camera.
    public func take(into out: inout [PlateSighting]) -> [DeviceIndex: UInt64] {
        queue.withLock { q in
            out.append(contentsOf: q.sightings)
            q.sightings.removeAll(keepingCapacity: true)
            defer { q.unreportedDrops.removeAll() }
            return q.unreportedDrops
        }
    }

    public var count: Int { queue.withLock { $0.sightings.count } }
    public var totalDrops: UInt64 { queue.withLock { $0.totalDrops } }
}
