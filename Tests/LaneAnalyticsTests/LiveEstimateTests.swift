import LaneAnalytics
import Testing

@Suite struct LiveEstimateTests {
    let estimator = LiveEstimator(layout: testPort)

    /// A vehicle joining at `start` that waits `wait` seconds and crosses 100 s later.
    func vehicle(_ tag: String, _ start: Int64, wait: Int64) -> [TagVisit] {
        [visit(tag, queueGeneral, start), visit(tag, boothOne, start + wait), visit(tag, portExit, start + wait + 100)]
    }

    @Test func theEstimateIsTheMedianOfTheLastFifteenMinutes() {
        // Waits of 5 minutes until 1 h, then 20 minutes: one vehicle a minute.
        var visits: [TagVisit] = []
        for i in 0..<60 { visits += vehicle("a\(i)", Int64(i) * 60, wait: 300) }
        for i in 0..<40 { visits += vehicle("b\(i)", 3600 + Int64(i) * 60, wait: 1200) }
        let early = estimator.estimate(at: s(3000), visits: visits)[0]
        #expect(early.wait == 300)
        #expect(early.confidence == .high)
        #expect(early.waitSamples == 15)
        let later = estimator.estimate(at: s(3600 + 39 * 60 + 1200 + 1), visits: visits)[0]
        #expect(later.wait == 1200)
        #expect(later.crossing == 1300)
    }

    @Test func aQueueBuildingUpRaisesTheEstimateBeforeItsTrucksReachTheBooth() {
        // Steady 3-minute waits, then ten vehicles join and the booth stops: none is served.
        var visits: [TagVisit] = []
        for i in 0..<30 { visits += vehicle("a\(i)", Int64(i) * 60, wait: 180) }
        for i in 0..<10 { visits.append(visit("q\(i)", queueGeneral, 1800 + Int64(i) * 30)) }
        let now = s(1800 + 1500)
        let live = estimator.estimate(at: now, visits: visits)[0]
        #expect(live.rising)
        #expect(live.queueBound == 1500)
        #expect(live.wait == 1500)
        // A vehicle that joined before the last one served and never reached a booth was missed
        // there: it does not hold the bound up.
        let missed = estimator.estimate(at: s(1700), visits: visits.filter { !$0.tag.hasPrefix("q") } + [visit("m", queueGeneral, 60)])[0]
        #expect(!missed.rising)
        #expect(missed.wait == 180)
    }

    @Test func withoutRecentTripsTheConfidenceDrops() {
        let visits = vehicle("a", 0, wait: 300) + vehicle("b", 60, wait: 300)
        #expect(estimator.estimate(at: s(400), visits: visits)[0].confidence == .low)
        let hourLater = estimator.estimate(at: s(3000), visits: visits)[0]
        #expect(hourLater.confidence == .low)
        #expect(hourLater.wait == 300)
        let none = estimator.estimate(at: s(9000), visits: visits)[0]
        #expect(none.confidence == .none && none.wait == nil)
    }

    @Test func visitsAfterTheMomentAreNotUsed() {
        let visits = vehicle("a", 0, wait: 300)
        let before = estimator.estimate(at: s(299), visits: visits)[0]
        #expect(before.waitSamples == 0)
        #expect(estimator.estimate(at: s(300), visits: visits)[0].waitSamples == 1)
    }
}
