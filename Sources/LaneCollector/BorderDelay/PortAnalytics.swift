import LaneAnalytics
import NIOPosix

/// Border delay for the configured ports, computed from the store on request. Every answer is
/// a pure function of the visits stored at that moment, so a backlog that lands late corrects
/// the archive the next time it is asked for, and nothing is counted twice. Matching a day's
/// trips takes CPU time: it runs on NIO's thread pool, off the cooperative pool.
public struct PortAnalytics: Sendable {
    public let ports: [PortLayout]
    let store: any EventStore

    public init(ports: [PortLayout], store: any EventStore) {
        self.ports = ports
        self.store = store
    }

    public func port(_ id: String) -> PortLayout? { ports.first { $0.id == id } }

    /// Trips that joined the queue in [from, to), each figure with its verdict.
    public func trips(_ port: PortLayout, from: UTCNanoseconds, to: UTCNanoseconds) async throws -> (trips: [FilteredTrip], report: TripMatcher.Report) {
        let (trips, report) = try await matched(port, from: from, to: to)
        return (trips.filter { $0.trip.queueEnd >= from && $0.trip.queueEnd < to }, report)
    }

    /// Bins and performance measures of figures completed in [from, to).
    public func statistics(_ port: PortLayout, _ measure: Measure, width: Int64, from: UTCNanoseconds, to: UTCNanoseconds)
        async throws -> (bins: [DelayBin], measures: [DelayMeasures]) {
        let bound = measure == .wait ? port.bounds.maxWait : port.bounds.maxCrossing
        let trips = try await matched(port, from: from.subtractingClamped(bound), to: to).trips
        return try await NIOThreadPool.singleton.runIfActive {
            (DelayStatistics.bins(trips, measure, width: width, from: from, to: to),
             DelayStatistics.measures(trips, measure, bounds: port.bounds, from: from, to: to))
        }
    }

    /// The live estimate per lane type at `at`.
    public func live(_ port: PortLayout, at: UTCNanoseconds) async throws -> [LiveEstimate] {
        let estimator = LiveEstimator(layout: port)
        let visits = try await store.tagVisits(gateways: port.gateways, fromUTC: at.subtractingClamped(estimator.history),
                                               toUTC: at.addingClamped(1))
        return try await NIOThreadPool.singleton.runIfActive { estimator.estimate(at: at, visits: visits) }
    }

    /// Booth lanes per lane type: how many the port has, and how many are open at `at`. Open is a
    /// lane whose loops saw a vehicle in the last 15 minutes; where the booths' gateways report
    /// no vehicle at all (a route without loops), a lane whose booth read a tag.
    public func lanesOpen(_ port: PortLayout, at: UTCNanoseconds) async throws -> (open: [String: Int], total: [String: Int]) {
        let from = at.subtractingClamped(15 * 60 * 1_000_000_000)
        let booths = port.points.filter { $0.stage == .booth }
        let boothGateways = Array(Set(booths.map(\.place.gateway))).sorted()
        var total: [String: Int] = [:]
        for b in booths { total[b.laneType ?? "unknown", default: 0] += 1 }
        let lanes = try await store.lanesWithVehicles(gateways: boothGateways, fromUTC: from, toUTC: at.addingClamped(1))
        var open: [String: Int] = [:]
        if !lanes.isEmpty {
            for b in booths where lanes.contains(GatewayLane(gateway: b.place.gateway, lane: b.lane ?? "")) { open[b.laneType ?? "unknown", default: 0] += 1 }
            return (open, total)
        }
        let read = Set(try await store.tagVisits(gateways: boothGateways, fromUTC: from, toUTC: at.addingClamped(1)).map(\.place))
        for b in booths where read.contains(b.place) { open[b.laneType ?? "unknown", default: 0] += 1 }
        return (open, total)
    }

    /// Trips from visits in [from, to + the crossing bound), plus the outlier filter's lookback
    /// before `from` so that the first trips of the range are judged against their neighbours.
    private func matched(_ port: PortLayout, from: UTCNanoseconds, to: UTCNanoseconds) async throws -> (trips: [FilteredTrip], report: TripMatcher.Report) {
        let filter = TripFilter(bounds: port.bounds)
        let visits = try await store.tagVisits(gateways: port.gateways, fromUTC: from.subtractingClamped(filter.lookback),
                                               toUTC: to.addingClamped(port.bounds.maxCrossing))
        return try await NIOThreadPool.singleton.runIfActive {
            let (trips, report) = TripMatcher(layout: port).trips(from: TagVisit.merged(visits))
            return (filter.filter(trips), report)
        }
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
