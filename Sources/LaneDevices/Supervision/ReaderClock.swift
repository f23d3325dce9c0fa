import LaneCore

/// Maps a reader's own timestamps onto the local monotonic clock.
///
/// A report cannot arrive before the read it describes, so the smallest `receive − reader` seen
/// is the best estimate of the offset (the one with the least transport delay). The estimate
/// follows the minimum of each `window`, so a reader crystal running slow or fast is tracked
/// rather than accumulated; a reader clock that steps back by more than `stepLimit` is
/// re-anchored at once. A mapped time is never later than the time it was received.
public struct ReaderClock: Sendable {
    public var window: Nanoseconds
    public var stepLimit: Nanoseconds
    /// `local − reader`, nanoseconds: nil until the first sample.
    public private(set) var offset: Nanoseconds?
    private var windowMinimum: Nanoseconds = .max
    private var windowEnd = MonotonicInstant.zero
    public private(set) var steps = 0

    public init(window: Nanoseconds = .seconds(30), stepLimit: Nanoseconds = .seconds(2)) {
        self.window = window
        self.stepLimit = stepLimit
    }

    /// The local instant of a reading stamped `reader` (ns on the reader's clock) and received at `received`.
    public mutating func map(reader: Nanoseconds, received: MonotonicInstant) -> MonotonicInstant {
        let candidate = received.nanoseconds &- reader
        if let current = offset {
            if candidate < current {
                offset = candidate
            } else if candidate &- current > stepLimit {
                offset = candidate
                steps += 1
            }
        } else {
            offset = candidate
            windowEnd = received.advanced(by: window)
        }
        windowMinimum = min(windowMinimum, candidate)
        if received >= windowEnd {
            offset = windowMinimum
            windowMinimum = .max
            windowEnd = received.advanced(by: window)
        }
        let mapped = MonotonicInstant(nanoseconds: reader &+ offset!)
        return min(mapped, received)
    }
}
