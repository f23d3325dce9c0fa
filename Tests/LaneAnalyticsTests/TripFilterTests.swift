import LaneAnalytics
import Testing

@Suite struct TripFilterTests {
    let filter = TripFilter(bounds: SegmentBounds())

    /// Trips of the general lane every 60 s, with the given wait and crossing seconds.
    func trips(_ figures: [(wait: Int64, crossing: Int64)]) -> [Trip] {
        figures.enumerated().map { i, f in
            let start = Int64(i) * 60
            return Trip(tag: "t\(i)", laneType: "general", lane: "lane1", queueEnd: s(start), booth: s(start + f.wait), exit: s(start + f.crossing))
        }
    }

    @Test func aSecondaryInspectionIsAnOutlierForItsCrossingOnly() {
        // Two hours of ordinary trips, one a minute; the twentieth vehicle is held an hour.
        var figures: [(wait: Int64, crossing: Int64)] = (0..<120).map { (i: Int) -> (wait: Int64, crossing: Int64) in
            let step = Int64(i % 7) * 5
            return (wait: 600 + step, crossing: 800 + step)
        }
        figures[20] = (wait: 610, crossing: 800 + 3600)
        let out = filter.filter(trips(figures))
        #expect(out[20].crossingRejection == .outlier)
        #expect(out[20].waitRejection == nil)
        #expect(out.indices.filter { $0 != 20 }.allSatisfy { out[$0].crossingRejection == nil && out[$0].waitRejection == nil })
    }

    @Test func fasterThanFreeFlowIsRejected() {
        let out = filter.filter(trips([(wait: 4, crossing: 20), (wait: 300, crossing: 400)]))
        #expect(out[0].waitRejection == .belowFreeFlow)
        #expect(out[0].crossingRejection == .belowFreeFlow)
        #expect(out[1].waitRejection == nil)
    }

    @Test func aQueueThatReallyGrowsIsFollowedNotRejected() {
        // Ten minutes, then thirty: a real change, not twenty outliers.
        let figures = (0..<20).map { _ in (wait: Int64(600), crossing: Int64(700)) } + (0..<20).map { _ in (wait: Int64(1800), crossing: Int64(1900)) }
        let out = filter.filter(trips(figures))
        let rejected = out[20...].filter { $0.waitRejection == .outlier }.count
        #expect(rejected > 0 && rejected <= 10, "rejected \(rejected) of the grown queue's 20 trips")
        #expect(out.suffix(10).allSatisfy { $0.waitRejection == nil })
    }

    @Test func theSameTripTwiceIsADuplicate() {
        let trip = Trip(tag: "a", laneType: "general", queueEnd: s(0), booth: s(300), exit: s(400))
        let out = filter.filter([trip, trip])
        #expect(out[0].waitRejection == nil)
        #expect(out[1].waitRejection == .duplicate && out[1].crossingRejection == .duplicate)
    }
}

@Suite struct DelayStatisticsTests {
    @Test func binsHoldTheirTripsFigures() {
        // Waits 60, 120, …, 600 s completing within the first 15 minutes; one more in the next bin.
        var trips = (1...10).map { i in FilteredTrip(trip: Trip(tag: "t\(i)", laneType: "general", queueEnd: 0, booth: s(Int64(i) * 60))) }
        trips.append(FilteredTrip(trip: Trip(tag: "late", laneType: "general", queueEnd: s(900), booth: s(960))))
        var rejected = FilteredTrip(trip: Trip(tag: "r", laneType: "general", queueEnd: 0, booth: s(30)))
        rejected.waitRejection = .outlier
        trips.append(rejected)
        let bins = DelayStatistics.bins(trips, .wait, width: s(900), from: 0, to: s(1800))
        #expect(bins.count == 2)
        let first = bins[0]
        #expect(first.count == 10)
        #expect(first.mean == 330)
        #expect(first.median == 300)
        #expect(first.p85 == 540)
        #expect(first.p95 == 600)
        #expect(first.min == 60 && first.max == 600)
        #expect(bins[1].start == s(900) && bins[1].count == 1 && bins[1].median == 60)
    }

    @Test func performanceMeasuresFollowTheGuidebook() {
        var bounds = SegmentBounds()
        bounds.congestedAbove = s(400)
        // Twenty waits of 100 s, then twenty of 500 s, one per 30 s.
        let trips = (0..<40).map { i in
            FilteredTrip(trip: Trip(tag: "t\(i)", laneType: "general", queueEnd: s(Int64(i) * 30), booth: s(Int64(i) * 30 + (i < 20 ? 100 : 500))))
        }
        let m = DelayStatistics.measures(trips, .wait, bounds: bounds, from: 0, to: s(3600))
        #expect(m.count == 1)
        #expect(m[0].freeFlow == 100)
        #expect(m[0].mean == 300)
        #expect(m[0].p95 == 500)
        #expect(m[0].planningTimeIndex == 5)
        #expect(abs(m[0].bufferIndex - 2.0 / 3.0) < 1e-9)
        // Completions from 1100 s to 1670 s: bins 900–1200 (median 500), 1200–1500, 1500–1800.
        #expect(m[0].congestedMinutes == 15)
    }
}
