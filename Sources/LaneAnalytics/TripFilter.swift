/// Why a trip's figure is left out of the statistics. Rejected trips are kept, with the reason,
/// so that every published figure can be traced back to the trips behind it.
public enum Rejection: String, Sendable, Hashable, CaseIterable {
    /// The same trip twice (the same tag, stages and times).
    case duplicate
    /// Faster than the segment allows (below free flow): a misread or a clock fault.
    case belowFreeFlow = "below_free_flow"
    /// Far from the recent trips of its lane type (for example a secondary inspection).
    case outlier
}

/// A trip with the verdict on each of its figures: a secondary inspection makes a crossing time
/// an outlier while its wait time stays good.
public struct FilteredTrip: Sendable, Hashable {
    public var trip: Trip
    public var waitRejection: Rejection?
    public var crossingRejection: Rejection?

    public init(trip: Trip, waitRejection: Rejection? = nil, crossingRejection: Rejection? = nil) {
        self.trip = trip
        self.waitRejection = waitRejection
        self.crossingRejection = crossingRejection
    }

    public func rejection(_ measure: Measure) -> Rejection? {
        measure == .wait ? waitRejection : crossingRejection
    }

    /// The figure, when present and accepted.
    public func accepted(_ measure: Measure) -> Int64? {
        rejection(measure) == nil ? trip.duration(measure) : nil
    }
}

/// Rejects impossible and outlying figures. An outlier is a figure more than `k` robust standard
/// deviations (1.4826 × MAD) from the median of the lane type's last `window` figures completed
/// within `lookback`. The centre follows all recent figures, rejected or not, so a queue that
/// really grows moves the centre within half a window instead of being rejected for ever.
///
/// Defaults: k = 3 and a window of 20 figures within 30 minutes. On the port simulator's day
/// (see `PortDayAccuracyTests`) this rejects most secondary-inspection crossings and few honest
/// ones; a smaller window follows noise, a larger one lags behind a growing queue.
public struct TripFilter: Sendable {
    public var bounds: SegmentBounds
    public var k = 3.0
    public var window = 20
    public var lookback: Int64 = 30 * 60 * seconds
    /// Fewer figures than this in the window: no outlier test yet.
    public var minimumSamples = 6
    /// The spread never counts as smaller than this, so a quiet lane's identical free-flow
    /// times do not make every small difference an outlier.
    public var spreadFloor: Int64 = 60 * seconds

    public init(bounds: SegmentBounds) { self.bounds = bounds }

    public func filter(_ trips: [Trip]) -> [FilteredTrip] {
        var out = trips.map { FilteredTrip(trip: $0) }
        var seen = Set<Trip>()
        for i in out.indices where !seen.insert(out[i].trip).inserted {
            out[i].waitRejection = out[i].trip.booth == nil ? nil : .duplicate
            out[i].crossingRejection = out[i].trip.exit == nil ? nil : .duplicate
        }
        for measure in Measure.allCases { judge(measure, &out) }
        return out
    }

    private func judge(_ measure: Measure, _ trips: inout [FilteredTrip]) {
        let minimum = measure == .wait ? bounds.minWait : bounds.minCrossing
        // Per lane type, in order of completion.
        var order: [String: [Int]] = [:]
        for (i, t) in trips.enumerated() where t.trip.duration(measure) != nil && t.rejection(measure) == nil {
            order[t.trip.laneType, default: []].append(i)
        }
        for (_, indices) in order {
            let sorted = indices.sorted { trips[$0].trip.completed(measure)! < trips[$1].trip.completed(measure)! }
            var recent: [(at: UTCNanoseconds, value: Int64)] = []
            for i in sorted {
                let value = trips[i].trip.duration(measure)!, at = trips[i].trip.completed(measure)!
                if value < minimum {
                    set(measure, .belowFreeFlow, &trips[i])
                    continue
                }
                recent.removeAll { at - $0.at > lookback }
                if recent.count > window { recent.removeFirst(recent.count - window) }
                if recent.count >= minimumSamples {
                    let values = recent.map(\.value)
                    let centre = Robust.median(values)
                    let spread = max(spreadFloor, Int64(1.4826 * Double(Robust.median(values.map { abs($0 - centre) }))))
                    if Double(abs(value - centre)) > k * Double(spread) { set(measure, .outlier, &trips[i]) }
                }
                recent.append((at, value))
            }
        }
    }

    private func set(_ measure: Measure, _ rejection: Rejection, _ trip: inout FilteredTrip) {
        if measure == .wait { trip.waitRejection = rejection } else { trip.crossingRejection = rejection }
    }
}

enum Robust {
    /// The median of `values` (the lower middle one for an even count); 0 for none.
    static func median(_ values: [Int64]) -> Int64 {
        guard !values.isEmpty else { return 0 }
        let s = values.sorted()
        return s[(s.count - 1) / 2]
    }

    /// The nearest-rank percentile `p` (0–100) of sorted values.
    static func percentile(_ sorted: [Int64], _ p: Double) -> Int64 {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
