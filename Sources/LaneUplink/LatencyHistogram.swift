/// Acknowledgement latencies in fixed buckets, each 25 % wider than the last from 0.1 ms up
/// to about 4 minutes: enough to tell a p99 within a quarter, in constant memory for a daemon
/// that runs for months.
public struct LatencyHistogram: Sendable {
    static let first = 100_000.0  // ns
    static let growth = 1.25
    static let buckets = 80
    private var counts = [UInt64](repeating: 0, count: LatencyHistogram.buckets)
    public private(set) var count: UInt64 = 0

    public init() {}

    mutating func record(_ latency: Duration) {
        let ns = Double(latency.components.seconds) * 1e9 + Double(latency.components.attoseconds) / 1e9
        var bucket = 0, bound = Self.first
        while ns > bound && bucket < Self.buckets - 1 {
            bound *= Self.growth
            bucket += 1
        }
        counts[bucket] += 1
        count += 1
    }

    /// The upper bound of the bucket that holds the `q` quantile (0 ... 1); nil when empty.
    public func quantile(_ q: Double) -> Duration? {
        guard count > 0 else { return nil }
        let rank = UInt64((Double(count) * min(max(q, 0), 1)).rounded(.up))
        var seen: UInt64 = 0, bound = Self.first
        for c in counts {
            seen += c
            if seen >= max(rank, 1) { return .nanoseconds(Int64(bound)) }
            bound *= Self.growth
        }
        return .nanoseconds(Int64(bound))
    }
}
