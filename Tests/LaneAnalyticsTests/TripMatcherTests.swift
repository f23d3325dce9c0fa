import LaneAnalytics
import Testing

/// A port with one queue end per lane type, two booths, an exit; times in seconds.
let queueGeneral = ReadPlace(gateway: "q", readPoint: "approach-general")
let boothOne = ReadPlace(gateway: "b", readPoint: "lane1/booth")
let boothTwo = ReadPlace(gateway: "b", readPoint: "lane2/booth")
let portExit = ReadPlace(gateway: "x", readPoint: "exit")
let testPort = PortLayout(id: "p", name: "Port", direction: "northbound", points: [
    PortPoint(place: queueGeneral, stage: .queueEnd, laneType: "general"),
    PortPoint(place: boothOne, stage: .booth, laneType: "general", lane: "lane1"),
    PortPoint(place: boothTwo, stage: .booth, laneType: "general", lane: "lane2"),
    PortPoint(place: portExit, stage: .exit),
])

func visit(_ tag: String, _ place: ReadPlace, _ first: Int64, _ last: Int64? = nil, reads: UInt32 = 10, rssi: Int8 = -50) -> TagVisit {
    TagVisit(tag: tag, place: place, first: first * 1_000_000_000, last: (last ?? first + 3) * 1_000_000_000, reads: reads, peakRSSI: rssi)
}

func s(_ seconds: Int64) -> Int64 { seconds * 1_000_000_000 }

@Suite struct TripMatcherTests {
    let matcher = TripMatcher(layout: testPort)

    @Test func queueBoothAndExitMakeOneTrip() {
        let (trips, report) = matcher.trips(from: [visit("a", queueGeneral, 100), visit("a", boothOne, 700), visit("a", portExit, 900)])
        #expect(trips == [Trip(tag: "a", laneType: "general", lane: "lane1", queueEnd: s(100), booth: s(700), exit: s(900))])
        #expect(trips[0].duration(.wait) == s(600))
        #expect(trips[0].duration(.crossing) == s(800))
        #expect(report.unmatched == 0)
    }

    @Test func aTagCrossingTwiceInADayMakesTwoTrips() {
        let visits = [visit("a", queueGeneral, 100), visit("a", boothOne, 700), visit("a", portExit, 900),
                      visit("a", queueGeneral, 20_000), visit("a", boothTwo, 20_300), visit("a", portExit, 20_400)]
        let trips = matcher.trips(from: visits).trips
        #expect(trips.map(\.queueEnd) == [s(100), s(20_000)])
        #expect(trips.map(\.lane) == ["lane1", "lane2"])
    }

    @Test func aMissedBoothStillGivesACrossingTime() {
        let trips = matcher.trips(from: [visit("a", queueGeneral, 100), visit("a", portExit, 1000)]).trips
        #expect(trips == [Trip(tag: "a", laneType: "general", queueEnd: s(100), exit: s(1000))])
        #expect(trips[0].duration(.wait) == nil)
    }

    @Test func aMissedExitStillGivesAWaitTime() {
        let trips = matcher.trips(from: [visit("a", queueGeneral, 100), visit("a", boothOne, 400)]).trips
        #expect(trips.map { $0.duration(.wait) } == [s(300)])
        #expect(trips[0].exit == nil)
    }

    @Test func aTagReadByTwoBoothsKeepsTheOneWithMoreReads() {
        let visits = [visit("a", queueGeneral, 100), visit("a", boothTwo, 701, reads: 4, rssi: -72),
                      visit("a", boothOne, 700, 760, reads: 120, rssi: -40), visit("a", portExit, 900)]
        let (trips, report) = matcher.trips(from: visits)
        #expect(trips.count == 1)
        #expect(trips[0].lane == "lane1")
        #expect(trips[0].booth == s(700))
        #expect(trips[0].note != nil)
        #expect(report.crossReads == 1)
    }

    @Test func theOrderVisitsArriveInDoesNotMatter() {
        var visits: [TagVisit] = []
        for (i, tag) in ["a", "b", "c", "d"].enumerated() {
            let t = Int64(i) * 50
            visits += [visit(tag, queueGeneral, 100 + t), visit(tag, boothOne, 500 + t), visit(tag, portExit, 800 + t)]
        }
        let inOrder = matcher.trips(from: visits).trips
        var shuffled = visits
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5 {
            shuffled.shuffle(using: &generator)
            #expect(matcher.trips(from: shuffled).trips == inOrder)
        }
        #expect(inOrder.count == 4)
    }

    @Test func aBoothVisitBeyondTheWaitBoundIsNotMatched() {
        var layout = testPort
        layout.bounds.maxWait = s(3600)
        let (trips, report) = TripMatcher(layout: layout).trips(from: [visit("a", queueGeneral, 100), visit("a", boothOne, 100 + 3601)])
        #expect(trips.isEmpty)
        #expect(report.unmatched == 1)
    }

    @Test func queueEndReadsOfOneStayStartTheTripAtTheFirst() {
        let visits = [visit("a", queueGeneral, 100, 110), visit("a", queueGeneral, 190, 200), visit("a", boothOne, 600)]
        #expect(matcher.trips(from: visits).trips.map(\.queueEnd) == [s(100)])
    }

    @Test func aTagSeenOnlyAtTheBoothOrAtForeignPlacesMakesNoTrip() {
        let elsewhere = ReadPlace(gateway: "other", readPoint: "yard")
        let (trips, report) = matcher.trips(from: [visit("a", boothOne, 100), visit("b", elsewhere, 5)])
        #expect(trips.isEmpty)
        #expect(report.unmatched == 1)
        #expect(report.foreign == 1)
    }

    @Test func anArrivalIsReplacedByItsDeparture() {
        var open = visit("a", boothOne, 100)
        open.open = true
        open.first += 3_000   // the departure's batch placed it 3 µs apart
        let closed = visit("a", boothOne, 100, 160)
        #expect(TagVisit.merged([open, closed, closed]) == [closed])
        #expect(TagVisit.merged([open]) == [open])
    }
}
