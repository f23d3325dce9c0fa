#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nanoseconds, the one unit of duration inside the pipeline.
public typealias Nanoseconds = Int64

/// A point on `CLOCK_MONOTONIC`, in nanoseconds since boot.
///
/// Every detection carries one, stamped where it is born. Wall-clock time never orders events:
/// it is attached per batch as a ``ClockAnchor``, so a clock step cannot reorder anything.
public struct MonotonicInstant: Hashable, Comparable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var nanoseconds: Int64

    @inlinable
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = MonotonicInstant(nanoseconds: 0)
    public static let distantFuture = MonotonicInstant(nanoseconds: .max)

    /// Reads `CLOCK_MONOTONIC` now.
    @inlinable
    public static func now() -> MonotonicInstant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return MonotonicInstant(nanoseconds: Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec))
    }

    @inlinable
    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// This instant moved by `span`, saturating instead of overflowing.
    @inlinable
    public func advanced(by span: Nanoseconds) -> MonotonicInstant {
        let (sum, overflow) = nanoseconds.addingReportingOverflow(span)
        return MonotonicInstant(nanoseconds: overflow ? (span > 0 ? .max : .min) : sum)
    }

    /// `self - earlier`, in nanoseconds.
    @inlinable
    public func since(_ earlier: MonotonicInstant) -> Nanoseconds {
        nanoseconds &- earlier.nanoseconds
    }

    public var description: String { "\(nanoseconds)ns" }
}

extension Nanoseconds {
    @inlinable public static func seconds(_ s: Int64) -> Nanoseconds { s * 1_000_000_000 }
    @inlinable public static func milliseconds(_ ms: Int64) -> Nanoseconds { ms * 1_000_000 }
    @inlinable public static func minutes(_ m: Int64) -> Nanoseconds { m * 60_000_000_000 }
}
