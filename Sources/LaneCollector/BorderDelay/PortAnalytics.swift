import LaneAnalytics

/// Border delay for the configured ports, computed from the store on request. Every answer is
/// a pure function of the visits stored at that moment, so a backlog that lands late corrects
/// the archive the next time it is asked for, and nothing is counted twice.
public struct PortAnalytics: Sendable {
    public let ports: [PortLayout]
    let store: any EventStore

    public init(ports: [PortLayout], store: any EventStore) {
        self.ports = ports
        self.store = store
    }

    public func port(_ id: String) -> PortLayout? { ports.first { $0.id == id } }

    /// Trips that joined the queue in [from, to), each figure with its verdict.
    public func trips(_ port: PortLayout, from: UTCNanoseconds, to: UTCNanoseconds) throws -> (trips: [FilteredTrip], report: TripMatcher.Report) {
        let (trips, report) = try matched(port, from: from, to: to)
        return (trips.filter { $0.trip.queueEnd >= from && $0.trip.queueEnd < to }, report)
    }

    /// Bins and performance measures of figures completed in [from, to).
    public func statistics(_ port: PortLayout, _ measure: Measure, width: Int64, from: UTCNanoseconds, to: UTCNanoseconds)
        throws -> (bins: [DelayBin], measures: [DelayMeasures]) {
        let bound = measure == .wait ? port.bounds.maxWait : port.bounds.maxCrossing
        let trips = try matched(port, from: from.subtractingClamped(bound), to: to).trips
        return (DelayStatistics.bins(trips, measure, width: width, from: from, to: to),
                DelayStatistics.measures(trips, measure, bounds: port.bounds, from: from, to: to))
    }

    /// The live estimate per lane type at `at`.
    public func live(_ port: PortLayout, at: UTCNanoseconds) throws -> [LiveEstimate] {
        let estimator = LiveEstimator(layout: port)
        let visits = try store.tagVisits(gateways: port.gateways, fromUTC: at.subtractingClamped(estimator.history),
                                         toUTC: at.addingClamped(1))
        return estimator.estimate(at: at, visits: visits)
    }

    /// Trips from visits in [from, to + the crossing bound), plus the outlier filter's lookback
    /// before `from` so that the first trips of the range are judged against their neighbours.
    private func matched(_ port: PortLayout, from: UTCNanoseconds, to: UTCNanoseconds) throws -> (trips: [FilteredTrip], report: TripMatcher.Report) {
        let filter = TripFilter(bounds: port.bounds)
        let visits = try store.tagVisits(gateways: port.gateways, fromUTC: from.subtractingClamped(filter.lookback),
                                         toUTC: to.addingClamped(port.bounds.maxCrossing))
        let (trips, report) = TripMatcher(layout: port).trips(from: TagVisit.merged(visits))
        return (filter.filter(trips), report)
    }
}

extension Int64 {
    func addingClamped(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    func subtractingClamped(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other > 0 ? .min : .max) : difference
    }
}
