import LaneCore

/// One protocol driver. A session opens the device, configures it, and streams detections until
/// it fails (throws) or the context's stop signal is set (returns). Drivers keep configuration
/// only; everything a session learns lives in the session, so a retry starts clean.
public protocol DeviceDriver: Sendable {
    func session(_ context: DeviceContext) throws(DeviceError)
}

/// Retry delays after a failed session: doubling from `initial` up to `cap`, and back to
/// `initial` after a session that read for at least `healthyAfter`.
public struct Backoff: Sendable, Hashable {
    public var initial: Nanoseconds
    public var cap: Nanoseconds
    public var healthyAfter: Nanoseconds

    public init(initial: Nanoseconds = .milliseconds(500), cap: Nanoseconds = .seconds(30),
                healthyAfter: Nanoseconds = .seconds(10)) {
        self.initial = initial
        self.cap = cap
        self.healthyAfter = healthyAfter
    }

    func delay(afterFailures failures: Int) -> Nanoseconds {
        var delay = initial
        for _ in 1..<max(1, failures) where delay < cap { delay *= 2 }
        return min(delay, cap)
    }
}
