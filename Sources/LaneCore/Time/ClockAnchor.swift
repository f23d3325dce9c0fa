#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLaneSystem

/// How far the collector may trust the UTC placement of a batch's events.
public enum ClockSync: UInt8, Sendable, Hashable {
    /// The kernel could not be asked (or the platform has no adjtimex).
    case unknown = 0
    /// An NTP/PTP discipline has the clock in sync (STA_UNSYNC clear).
    case synchronized = 1
    /// Free-running: the UTC placement may be off by any amount.
    case unsynchronized = 2

    public var name: String {
        switch self {
        case .unknown: "unknown"
        case .synchronized: "synchronized"
        case .unsynchronized: "unsynchronized"
        }
    }
}

/// A pair of readings of the monotonic and the real-time clock, taken back to back, plus what the
/// kernel says about the real-time clock's accuracy. One per batch: the collector maps each event's
/// monotonic time to UTC as `utc + (event - monotonic)`.
public struct ClockAnchor: Sendable, Hashable {
    public var monotonic: MonotonicInstant
    /// Nanoseconds since the Unix epoch, UTC.
    public var utcNanoseconds: Int64
    public var sync: ClockSync
    /// The kernel's maximum error estimate, microseconds (adjtimex `maxerror`).
    public var maxErrorMicros: Int64
    /// The kernel's estimated error, microseconds (adjtimex `esterror`).
    public var estimatedErrorMicros: Int64

    public init(
        monotonic: MonotonicInstant, utcNanoseconds: Int64, sync: ClockSync,
        maxErrorMicros: Int64, estimatedErrorMicros: Int64
    ) {
        self.monotonic = monotonic
        self.utcNanoseconds = utcNanoseconds
        self.sync = sync
        self.maxErrorMicros = maxErrorMicros
        self.estimatedErrorMicros = estimatedErrorMicros
    }

    /// Reads both clocks and the kernel's clock discipline now.
    public static func now() -> ClockAnchor {
        // Bracket the real-time reading with two monotonic ones and take the midpoint, so the pair
        // is as close to simultaneous as a preemptible process can make it.
        let before = MonotonicInstant.now()
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let after = MonotonicInstant.now()
        let mid = MonotonicInstant(nanoseconds: before.nanoseconds + after.since(before) / 2)
        let utc = Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)

        var quality = lanegate_clock_quality()
        guard lanegate_read_clock_quality(&quality) == 0 else {
            return ClockAnchor(monotonic: mid, utcNanoseconds: utc, sync: .unknown,
                               maxErrorMicros: -1, estimatedErrorMicros: -1)
        }
        let unsynced = (quality.status & lanegate_sta_unsync) != 0 || quality.state == lanegate_time_error
        return ClockAnchor(
            monotonic: mid, utcNanoseconds: utc, sync: unsynced ? .unsynchronized : .synchronized,
            maxErrorMicros: quality.maxerror_us, estimatedErrorMicros: quality.esterror_us)
    }

    /// The UTC nanoseconds this anchor assigns to a monotonic instant.
    public func utcNanoseconds(at instant: MonotonicInstant) -> Int64 {
        utcNanoseconds &+ instant.since(monotonic)
    }
}
