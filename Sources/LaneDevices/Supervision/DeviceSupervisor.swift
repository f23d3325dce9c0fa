import LaneCore
import Synchronization

/// Runs every device on a thread of its own: open, configure, read, and on failure report,
/// close and retry with capped backoff. A hung, unplugged or babbling device never touches the
/// others: each has its own thread, its own ring and its own counters.
public final class DeviceSupervisor: Sendable {
    public let board: DeviceStatusBoard
    public let backoff: Backoff
    private let stopSignal = StopSignal()
    private let threads = Mutex<[DedicatedThread]>([])

    public init(board: DeviceStatusBoard, backoff: Backoff = Backoff()) {
        self.board = board
        self.backoff = backoff
    }

    /// Starts `driver` as device `index`, pushing into `ring` (whose producer end it claims).
    /// `wake` cuts a retry's backoff short when its value changes (``USBHotplug/generation``
    /// for USB devices: a replugged reader is back at once).
    @discardableResult
    public func start(_ driver: some DeviceDriver, index: DeviceIndex, name: String, ring: SPSCRing<Detection>,
                      counters: DeviceCounters = DeviceCounters(), wake: (@Sendable () -> UInt64)? = nil) -> DeviceCounters {
        let context = DeviceContext(index: index, name: name, ring: ring, board: board, counters: counters, stop: stopSignal)
        let backoff = self.backoff
        let thread = DedicatedThread(name: "dev-\(index.rawValue)") {
            Self.supervise(driver, context: context, backoff: backoff, wake: wake)
        }
        threads.withLock { $0.append(thread) }
        return counters
    }

    /// Asks every session to end and waits for the threads.
    public func stop() {
        stopSignal.set()
        let all = threads.withLock { threads in
            defer { threads.removeAll() }
            return threads
        }
        for thread in all { thread.join() }
    }

    static func supervise(_ driver: some DeviceDriver, context: DeviceContext, backoff: Backoff,
                          wake: (@Sendable () -> UInt64)?) {
        var failures = 0
        while !context.shouldStop {
            context.beginSession()
            let began = MonotonicInstant.now()
            do throws(DeviceError) {
                try driver.session(context)
                if context.shouldStop { break }
                throw .silent("session ended")
            } catch {
                if context.shouldStop { break }
                context.fail(error.isLoss ? .lost : .error, error.description)
            }
            let healthy = context.reachedReading && MonotonicInstant.now().since(began) >= backoff.healthyAfter
            failures = healthy ? 1 : failures + 1
            guard context.stop.sleep(backoff.delay(afterFailures: failures), wake: wake) else { break }
        }
    }
}
