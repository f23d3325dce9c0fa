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
    /// Counts stored batches: a live answer computed at one count holds until the next.
    private let stores = Atomic<Int>(0)
    /// The last live answer per port: every stream woken by one batch shares one computation.
    private let answers = Mutex<[String: (storedBatches: Int, made: ContinuousClock.Instant, text: String)]>([:])
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

    /// The live answer of `port` now: the one already made when no batch was stored since and
    /// it is less than a second old, else a new one from `make`.
    func liveAnswer(port: String, _ make: () async throws -> String) async rethrows -> String {
        let count = stores.load(ordering: .acquiring)
        let now = ContinuousClock.now
        if let last = answers.withLock({ $0[port] }), last.storedBatches == count, now - last.made < .seconds(1) { return last.text }
        let text = try await make()
        answers.withLock { $0[port] = (count, now, text) }
        return text
    }

    func stored(gateway: String) {
        stores.add(1, ordering: .releasing)
        subscribers.withLock { s in for subscriber in s.all.values where subscriber.gateways.contains(gateway) { subscriber.wake.yield() } }
    }
}
