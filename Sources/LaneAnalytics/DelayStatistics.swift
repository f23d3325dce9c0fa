/// One time bin of one lane type's accepted figures, in seconds.
public struct DelayBin: Sendable, Hashable {
    public var laneType: String
    public var start: UTCNanoseconds
    public var count: Int
    public var mean: Double
    public var median: Double
    public var p85: Double
    public var p95: Double
    public var min: Double
    public var max: Double
}

/// A lane type's performance over a period, in the terms of the FHWA border guidebook.
public struct DelayMeasures: Sendable, Hashable {
    public var laneType: String
    public var count: Int
    /// Free-flow time, seconds: the 5th percentile of the period's accepted figures (at least the
    /// segment's minimum), since a port has no uncongested hour to measure it in.
    public var freeFlow: Double
    public var mean: Double
    public var p95: Double
    /// 95th percentile ÷ free flow: how much time to plan for.
    public var planningTimeIndex: Double
    /// (95th percentile − mean) ÷ mean: the extra time to allow over an average day.
    public var bufferIndex: Double
    /// Minutes in 5-minute bins whose median is above the port's congestion threshold.
    public var congestedMinutes: Int
}

public enum DelayStatistics {
    /// Accepted figures of `measure` completed in [from, to), per lane type and bin of `width`.
    /// Bins without trips are left out.
    public static func bins(_ trips: [FilteredTrip], _ measure: Measure, width: Int64,
                            from: UTCNanoseconds, to: UTCNanoseconds) -> [DelayBin] {
        precondition(width > 0)
        var groups: [BinKey: [Int64]] = [:]
        for t in trips {
            guard let value = t.accepted(measure), let at = t.trip.completed(measure), at >= from, at < to else { continue }
            let start = from + (at - from) / width * width
            groups[BinKey(laneType: t.trip.laneType, start: start), default: []].append(value)
        }
        return groups.map { key, values in
            let s = values.sorted()
            return DelayBin(laneType: key.laneType, start: key.start, count: s.count,
                            mean: Double(s.reduce(0, +)) / Double(s.count) / 1e9,
                            median: Double(Robust.median(s)) / 1e9, p85: Double(Robust.percentile(s, 85)) / 1e9,
                            p95: Double(Robust.percentile(s, 95)) / 1e9, min: Double(s.first!) / 1e9, max: Double(s.last!) / 1e9)
        }.sorted { ($0.start, $0.laneType) < ($1.start, $1.laneType) }
    }

    public static func measures(_ trips: [FilteredTrip], _ measure: Measure, bounds: SegmentBounds,
                                from: UTCNanoseconds, to: UTCNanoseconds) -> [DelayMeasures] {
        let minimum = measure == .wait ? bounds.minWait : bounds.minCrossing
        var values: [String: [Int64]] = [:]
        for t in trips {
            guard let v = t.accepted(measure), let at = t.trip.completed(measure), at >= from, at < to else { continue }
            values[t.trip.laneType, default: []].append(v)
        }
        let fiveMinute = bins(trips, measure, width: 300 * seconds, from: from, to: to)
        return values.keys.sorted().map { laneType in
            let s = values[laneType]!.sorted()
            let freeFlow = Double(max(minimum, Robust.percentile(s, 5))) / 1e9
            let mean = Double(s.reduce(0, +)) / Double(s.count) / 1e9
            let p95 = Double(Robust.percentile(s, 95)) / 1e9
            let congested = fiveMinute.filter { $0.laneType == laneType && $0.median * 1e9 > Double(bounds.congestedAbove) }.count * 5
            return DelayMeasures(laneType: laneType, count: s.count, freeFlow: freeFlow, mean: mean, p95: p95,
                                 planningTimeIndex: p95 / freeFlow, bufferIndex: mean > 0 ? (p95 - mean) / mean : 0,
                                 congestedMinutes: congested)
        }
    }

    private struct BinKey: Hashable {
        var laneType: String
        var start: UTCNanoseconds
    }
}
