import Synchronization

/// Wakes the live streams of a port when a batch from one of its gateways is stored, and every
/// `heartbeat` besides, so that ages and gateway health move on while no batch arrives.
public final class PortUpdates: Sendable {
    private struct Subscriber {
        let gateways: Set<String>
        let wake: AsyncStream<Void>.Continuation
        let heartbeat: Task<Void, Never>
    }
    private let subscribers = Mutex<(next: Int, all: [Int: Subscriber])>((0, [:]))
    let heartbeat: Duration

    public init(heartbeat: Duration = .seconds(15)) { self.heartbeat = heartbeat }

    public var count: Int { subscribers.withLock { $0.all.count } }

    /// A stream of wake-ups for the gateways of one port; a burst of batches is one wake-up.
    func subscribe(gateways: Set<String>) -> (id: Int, wakes: AsyncStream<Void>) {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let interval = heartbeat
        let beat = Task {
            while (try? await Task.sleep(for: interval)) != nil { continuation.yield() }
        }
        let id = subscribers.withLock { s in
            s.next += 1
            s.all[s.next] = Subscriber(gateways: gateways, wake: continuation, heartbeat: beat)
            return s.next
        }
        continuation.yield()
        return (id, stream)
    }

    func unsubscribe(_ id: Int) {
        guard let gone = subscribers.withLock({ $0.all.removeValue(forKey: id) }) else { return }
        gone.heartbeat.cancel()
        gone.wake.finish()
    }

    func stored(gateway: String) {
        subscribers.withLock { s in for subscriber in s.all.values where subscriber.gateways.contains(gateway) { subscriber.wake.yield() } }
    }
}
