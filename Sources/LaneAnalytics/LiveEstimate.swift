/// The wait and crossing time a lane type has now, as a port would post it.
public struct LiveEstimate: Sendable, Hashable {
    public enum Confidence: String, Sendable, Hashable {
        /// Enough trips completed within the window.
        case high
        /// A few trips, or only older ones: take it as a hint.
        case low
        /// No trip to go by.
        case none
    }

    public var laneType: String
    /// Seconds; nil with no trip to go by.
    public var wait: Double?
    public var crossing: Double?
    /// Trips behind `wait` and `crossing`.
    public var waitSamples: Int
    public var crossingSamples: Int
    /// When the newest trip behind `wait` reached the booth.
    public var newest: UTCNanoseconds?
    public var confidence: Confidence
    /// How long the oldest vehicle still in the queue has been waiting, seconds: a lower bound on
    /// the wait of the vehicles now joining it. Nil when no vehicle is known to be queueing.
    public var queueBound: Double?
    /// The queue bound is above the trips' figure, and `wait` was raised to it: the queue is
    /// growing faster than completed trips show.
    public var rising: Bool
}

/// The live estimate from the trips completed in the last `window`, and the queue in progress.
public struct LiveEstimator: Sendable {
    public var layout: PortLayout
    public var filter: TripFilter
    public var window: Int64 = 15 * 60 * seconds
    /// With no trip in `window`, the estimate falls back to this much history, at low confidence.
    public var fallback: Int64 = 60 * 60 * seconds
    /// Trips in the window needed for high confidence.
    public var confidentSamples = 5
    /// The queue bound raises the estimate only when above it by more than this, seconds: the
    /// oldest vehicle of a steady queue has waited about the estimate, give or take.
    public var risingMargin = 60.0

    public init(layout: PortLayout) {
        self.layout = layout
        filter = TripFilter(bounds: layout.bounds)
    }

    /// How far back the visits given to ``estimate(at:visits:)`` should reach.
    public var history: Int64 { max(fallback, filter.lookback) + layout.bounds.maxCrossing }

    /// The estimate per lane type at `now`, from the visits known then (later ones are ignored,
    /// so that a past moment can be replayed).
    public func estimate(at now: UTCNanoseconds, visits: [TagVisit]) -> [LiveEstimate] {
        let known = TagVisit.merged(visits.filter { $0.first <= now })
        let trips = filter.filter(TripMatcher(layout: layout).trips(from: known).trips)
        let pending = queueing(at: now, visits: known, trips: trips)
        return layout.laneTypes.map { laneType in
            let ofType = trips.filter { $0.trip.laneType == laneType }
            let (wait, waitSamples, newest, recent) = figure(.wait, ofType, now: now)
            let (crossing, crossingSamples, _, _) = figure(.crossing, ofType, now: now)
            var confidence: LiveEstimate.Confidence = wait == nil ? .none : (recent && waitSamples >= confidentSamples ? .high : .low)
            let bound = pending[laneType].map { Double(now - $0) / 1e9 }
            var shown = wait
            let rising = bound.map { $0 > (wait ?? 0) + risingMargin } ?? false
            if rising {
                shown = bound
                if confidence == .none { confidence = .low }
            }
            return LiveEstimate(laneType: laneType, wait: shown, crossing: crossing, waitSamples: waitSamples,
                                crossingSamples: crossingSamples, newest: newest, confidence: confidence,
                                queueBound: bound, rising: rising)
        }
    }

    /// The median of the accepted figures completed in the window, else in the fallback period.
    private func figure(_ measure: Measure, _ trips: [FilteredTrip], now: UTCNanoseconds)
        -> (Double?, Int, UTCNanoseconds?, recent: Bool) {
        for (span, recent) in [(window, true), (fallback, false)] {
            var values: [Int64] = []
            var newest: UTCNanoseconds?
            for t in trips {
                guard let v = t.accepted(measure), let at = t.trip.completed(measure), at <= now, now - at < span else { continue }
                values.append(v)
                newest = max(newest ?? at, at)
            }
            if !values.isEmpty { return (Double(Robust.median(values)) / 1e9, values.count, newest, recent) }
        }
        return (nil, 0, nil, false)
    }

    /// Per lane type with a queue-end point of its own: when the oldest vehicle still queueing
    /// joined. A queue is served in order, so a vehicle that joined before the last one served
    /// and has not been seen at a booth was missed there (or left the queue): only those that
    /// joined after the last one served count as queueing.
    private func queueing(at now: UTCNanoseconds, visits: [TagVisit], trips: [FilteredTrip]) -> [String: UTCNanoseconds] {
        let points = layout.pointsByPlace
        var lastServed: [String: UTCNanoseconds] = [:]
        var laterVisit: [String: UTCNanoseconds] = [:]
        for t in trips where t.trip.booth != nil {
            lastServed[t.trip.laneType] = max(lastServed[t.trip.laneType] ?? t.trip.queueEnd, t.trip.queueEnd)
        }
        for v in visits {
            guard let p = points[v.place], p.stage != .queueEnd else { continue }
            laterVisit[v.tag] = max(laterVisit[v.tag] ?? v.first, v.first)
        }
        var oldest: [String: UTCNanoseconds] = [:]
        for v in visits {
            guard let p = points[v.place], p.stage == .queueEnd, let laneType = p.laneType,
                  now - v.first <= layout.bounds.maxWait, v.first > lastServed[laneType] ?? .min,
                  (laterVisit[v.tag] ?? .min) < v.first else { continue }
            oldest[laneType] = min(oldest[laneType] ?? v.first, v.first)
        }
        return oldest
    }
}
