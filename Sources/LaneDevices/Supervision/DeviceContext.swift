import LaneCore
import Synchronization

/// What a driver's session works with: its ring, its counters, its status, the stop signal.
/// Owned by the device's thread; only ``StopSignal`` and the counters are touched elsewhere.
public final class DeviceContext: @unchecked Sendable {
    public let index: DeviceIndex
    public let name: String
    public let counters: DeviceCounters
    public let stop: StopSignal
    private let board: DeviceStatusBoard
    private var producer: RingProducer<Detection>
    /// Set once a session reaches `reading`: supervision resets its backoff after a good run.
    private(set) var reachedReading = false
    /// The failure last reported, while retries keep failing.
    private var lastFailure: String?
    /// States a retry passed through (connected, configured) before it is known whether it
    /// fails the same way again: a device failing identically on every retry reports once.
    private var held: [(DeviceState, String)] = []

    public init(index: DeviceIndex, name: String, ring: SPSCRing<Detection>, board: DeviceStatusBoard,
                counters: DeviceCounters = DeviceCounters(), stop: StopSignal = StopSignal()) {
        self.index = index
        self.name = name
        self.counters = counters
        self.stop = stop
        self.board = board
        self.producer = RingProducer(ring)
    }

    public var shouldStop: Bool { stop.isSet }

    /// Hands a detection to the pipeline; a full ring drops it and counts the drop itself (the
    /// pipeline turns that count into a gap event).
    @inline(__always)
    public func emit(_ payload: Detection.Payload, at time: MonotonicInstant) {
        if producer.push(Detection(time: time, device: index, payload: payload)) {
            counters.detections.add(1, ordering: .relaxed)
        }
    }

    /// Opens the device's link and reports it connected; failing to open ends the session.
    public func connect(_ open: () throws(LinkError) -> any ByteLink) throws(DeviceError) -> any ByteLink {
        let link: any ByteLink
        do throws(LinkError) { link = try open() } catch { throw .link(error) }
        report(.connected, link.name)
        return link
    }

    public func report(_ state: DeviceState, _ detail: String) {
        if state == .reading {
            reachedReading = true
            release()
        } else if lastFailure != nil {
            held.append((state, detail))
            return
        }
        board.report(index, state, detail)
    }

    /// The session failed: reported unless it is the same failure as last time.
    func fail(_ state: DeviceState, _ detail: String) {
        guard lastFailure != detail else {
            held.removeAll()
            return
        }
        release()
        board.report(index, state, detail)
        lastFailure = detail
    }

    private func release() {
        lastFailure = nil
        for (state, detail) in held { board.report(index, state, detail) }
        held.removeAll()
    }

    func beginSession() {
        reachedReading = false
        counters.sessions.add(1, ordering: .relaxed)
    }
}

/// A stop request shared by the supervisor and its device threads; a sleeper wakes the moment
/// it is set (a condition variable on the monotonic clock, not a poll).
public final class StopSignal: @unchecked Sendable {
    private let flag = Atomic<Bool>(false)
    // pthread objects must not move: they live on the heap, owned by this object.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public var isSet: Bool { flag.load(ordering: .acquiring) }

    public func set() {
        pthread_mutex_lock(mutex)
        flag.store(true, ordering: .releasing)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Sleeps up to `span`; false when stopped. With `wake`, the sleep also ends as soon as the
    /// value it returns changes (a device appeared): that one is looked at every 50 ms.
    public func sleep(_ span: Nanoseconds, wake: (@Sendable () -> UInt64)? = nil) -> Bool {
        let end = MonotonicInstant.now().advanced(by: span)
        let initial = wake?()
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !isSet {
            if let wake, wake() != initial { return true }
            let now = MonotonicInstant.now()
            let left = end.since(now)
            if left <= 0 { return true }
            let until = now.advanced(by: wake == nil ? left : min(left, .milliseconds(50))).nanoseconds
            var deadline = timespec(tv_sec: Int(until / 1_000_000_000), tv_nsec: Int(until % 1_000_000_000))
            pthread_cond_timedwait(condition, mutex, &deadline)
        }
        return false
    }
}

#if canImport(Glibc)
import Glibc
#endif
