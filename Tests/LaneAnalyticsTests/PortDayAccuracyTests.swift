import LaneAnalytics
import LaneSimulators
import Testing

extension PortLayout {
    /// The layout of a simulated port, as its collector would be configured.
    init(_ day: PortDay) {
        self.init(id: day.port, name: day.port, direction: "northbound", points: day.points.map {
            PortPoint(place: ReadPlace(gateway: $0.gateway, readPoint: $0.readPoint), stage: Stage(name: $0.stage)!,
                      laneType: $0.laneType, lane: $0.lane)
        })
    }
}

extension TagVisit {
    init(_ v: PortDay.Visit) {
        self.init(tag: v.tag, place: ReadPlace(gateway: v.gateway, readPoint: v.readPoint), first: v.first, last: v.last,
                  reads: v.reads, peakRSSI: v.peakRSSI)
    }
}

/// Two simulated ports over a whole day, against the acceptance criteria of the FHWA border
/// pilots: ≥ 85 % of tagged vehicles read at the queue end and further on are matched, and the
/// live wait estimate is within 3 minutes of the true wait in ≥ 85 % of 15-minute bins.
@Suite struct PortDayAccuracyTests {
    static let ports = [
        PortDay(seed: 1, port: "bota"),
        PortDay(seed: 2, port: "pharr", laneTypes: [
            .init(name: "general", booths: 3, vehiclesPerDay: 2600, service: 60, tagged: 0.55),
            .init(name: "fast", booths: 3, vehiclesPerDay: 1500, service: 95, tagged: 0.97),
        ]),
    ]

    @Test(arguments: ports)
    func tripsAreMatchedAndTheLiveWaitFollowsTheTruth(day: PortDay) {
        let (vehicles, simulated) = day.run()
        let layout = PortLayout(day)
        let visits = simulated.map(TagVisit.init)
        let trips = TripFilter(bounds: layout.bounds).filter(TripMatcher(layout: layout).trips(from: visits).trips)
        let estimator = LiveEstimator(layout: layout)

        var matchable: [String: Int] = [:], matched: [String: Int] = [:]
        var tripsByTag: [String: [FilteredTrip]] = [:]
        for t in trips { tripsByTag[t.trip.tag, default: []].append(t) }
        for v in vehicles where v.tag != nil && v.readAt.contains("queue_end") && v.readAt.count > 1 {
            matchable[v.laneType, default: 0] += 1
            let found = (tripsByTag[v.tag!] ?? []).contains { t in
                abs(t.trip.queueEnd - v.queueEnd) <= 5_000_000_000
                    && (t.trip.booth.map { abs($0 - v.booth) <= 5_000_000_000 } ?? true)
                    && (t.trip.exit.map { abs($0 - v.exit) <= 5_000_000_000 } ?? true)
            }
            if found { matched[v.laneType, default: 0] += 1 }
        }

        let bin: Int64 = 900_000_000_000
        var good: [String: Int] = [:], bins: [String: Int] = [:]
        for b in 0..<96 {
            let start = day.midnight + Int64(b) * bin, end = start + bin
            let recent = visits.filter { $0.first > end - estimator.history && $0.first <= end }
            for live in estimator.estimate(at: end, visits: recent) {
                let truth = vehicles.filter { $0.laneType == live.laneType && $0.booth >= start && $0.booth < end }.map(\.wait).sorted()
                guard !truth.isEmpty else { continue }
                bins[live.laneType, default: 0] += 1
                let trueWait = Double(truth[(truth.count - 1) / 2]) / 1e9
                if let wait = live.wait, abs(wait - trueWait) <= 180 { good[live.laneType, default: 0] += 1 }
            }
        }

        for type in layout.laneTypes {
            let matchShare = Double(matched[type] ?? 0) / Double(matchable[type] ?? 1)
            let binShare = Double(good[type] ?? 0) / Double(bins[type] ?? 1)
            let waits = vehicles.filter { $0.laneType == type }.map(\.wait)
            print("\(day.port) \(type): \(matchable[type] ?? 0) matchable, \(percent(matchShare)) matched; "
                  + "live wait within 3 min in \(good[type] ?? 0)/\(bins[type] ?? 0) bins (\(percent(binShare))); "
                  + "true wait up to \(waits.max()! / 60_000_000_000) min")
            #expect(matchShare >= 0.85, "\(day.port) \(type): \(percent(matchShare)) matched")
            #expect(binShare >= 0.85, "\(day.port) \(type): \(percent(binShare)) of bins within 3 min")
        }
        // The day must be a test of queueing, not of empty lanes.
        #expect(vehicles.map(\.wait).max()! > 20 * 60_000_000_000)
        let secondary = trips.filter { t in vehicles.contains { $0.tag == t.trip.tag && $0.secondary && abs($0.queueEnd - t.trip.queueEnd) < 5_000_000_000 } }
        let caught = secondary.filter { $0.crossingRejection == .outlier }.count
        let honest = trips.filter { $0.trip.exit != nil }.count - secondary.count
        let wronglyRejected = trips.filter { $0.crossingRejection == .outlier }.count - caught
        print("\(day.port): secondary crossings rejected \(caught)/\(secondary.filter { $0.trip.exit != nil }.count); "
              + "honest crossings rejected \(wronglyRejected)/\(honest)")
    }

    func percent(_ share: Double) -> String { "\(Int((share * 1000).rounded()) / 10).\(Int((share * 1000).rounded()) % 10) %" }
}

extension PortDay: CustomTestStringConvertible {
    public var testDescription: String { port }
}
