import LaneAnalytics
import Testing

/// Two ports a day's drive apart: Nogales (a seal receiver at its booth) and El Paso (its exit).
private let nogalesBooth = ReadPlace(gateway: "nogales-booths", readPoint: "lane1/seal")
private let elPasoExit = ReadPlace(gateway: "elpaso-exit", readPoint: "exit/seal")
private let ports = [
    PortLayout(id: "nogales-nb", name: "Nogales", direction: "northbound", points: [
        PortPoint(place: ReadPlace(gateway: "nogales-booths", readPoint: "lane1/booth"), stage: .booth, laneType: "commercial"),
    ]),
    PortLayout(id: "elpaso-nb", name: "El Paso", direction: "northbound", points: [PortPoint(place: elPasoExit, stage: .exit)]),
]
private let hour: Int64 = 3_600_000_000_000
private let tracker = TransitTracker(ports: ports, routes: [TransitRoute(from: "nogales-nb", to: "elpaso-nb", expected: 8 * hour)])

private func reading(_ place: ReadPlace, at hours: Double, status: UInt8 = 0, events: UInt16 = 1, seal: String = "0e1f-00000007") -> SealReading {
    SealReading(seal: seal, place: place, utc: Int64(hours * Double(hour)), status: status, eventCount: events)
}

@Suite struct TransitTrackerTests {
    @Test func aSealSeenAtTwoPortsIsOneTransitWithItsElapsedTime() {
        let (transits, unplaced) = tracker.transits([
            reading(nogalesBooth, at: 1), reading(nogalesBooth, at: 1.1), reading(elPasoExit, at: 7),
        ], now: 20 * hour)
        #expect(unplaced == 0)
        #expect(transits.count == 1)
        let t = transits[0]
        #expect(t.origin.port == "nogales-nb" && t.origin.readings == 2 && t.origin.last == Int64(1.1 * Double(hour)))
        #expect(t.destination?.port == "elpaso-nb")
        #expect(t.elapsed == Int64(5.9 * Double(hour)) && t.expected == 8 * hour)
        #expect(!t.overdue && !t.opened && !t.tampered && t.eventsBetween == 0)
    }

    @Test func aCounterThatMovedWithoutAnApprovedOpeningIsATamper() {
        let moved = tracker.transits([reading(nogalesBooth, at: 1, events: 3), reading(elPasoExit, at: 7, events: 5)], now: 20 * hour).transits
        #expect(moved.count == 1 && moved[0].opened && moved[0].tampered && moved[0].eventsBetween == 2)

        // Opened on the way by an authorised reader: opened, not tampered.
        let approved = tracker.transits([reading(nogalesBooth, at: 1, events: 3), reading(elPasoExit, at: 7, status: 0x01, events: 4)],
                                        now: 20 * hour).transits
        #expect(approved.count == 1 && approved[0].opened && !approved[0].tampered)

        // The tamper flag newly set, even with the counter unchanged.
        let flagged = tracker.transits([reading(nogalesBooth, at: 1), reading(elPasoExit, at: 7, status: 0x80)], now: 20 * hour).transits
        #expect(flagged.count == 1 && flagged[0].tampered)

        // Already tampered when it left: nothing new happened on the way.
        let before = tracker.transits([reading(nogalesBooth, at: 1, status: 0x80), reading(elPasoExit, at: 7, status: 0x80)], now: 20 * hour)
            .transits
        #expect(before.count == 1 && !before[0].opened && !before[0].tampered)

        // A low battery is not an opening.
        let battery = tracker.transits([reading(nogalesBooth, at: 1), reading(elPasoExit, at: 7, status: 0x40)], now: 20 * hour).transits
        #expect(battery.count == 1 && !battery[0].opened && !battery[0].tampered)
    }

    @Test func aTransitLongerThanItsRouteIsOverdue() {
        let late = tracker.transits([reading(nogalesBooth, at: 1), reading(elPasoExit, at: 9.5)], now: 20 * hour).transits
        #expect(late.count == 1 && late[0].overdue)
    }

    @Test func aSealNotYetSeenAgainIsUnderWayAndOverdueOnceItsRouteTimeHasPassed() {
        let early = tracker.transits([reading(nogalesBooth, at: 1)], now: 5 * hour).transits
        #expect(early.count == 1 && early[0].destination == nil && early[0].elapsed == 4 * hour && !early[0].overdue)
        let late = tracker.transits([reading(nogalesBooth, at: 1)], now: 10 * hour).transits
        #expect(late.count == 1 && late[0].overdue)
        // Seen only where no route starts: a crossing, not a transit.
        #expect(tracker.transits([reading(elPasoExit, at: 1)], now: 10 * hour).transits.isEmpty)
        // Arrived by its route: done, not under way again.
        #expect(tracker.transits([reading(nogalesBooth, at: 1), reading(elPasoExit, at: 7)], now: 30 * hour).transits.count == 1)
    }

    @Test func readingsAtNoKnownPortAreCountedAndSealsAreFollowedApart() {
        let (transits, unplaced) = tracker.transits([
            reading(ReadPlace(gateway: "somewhere-else", readPoint: "x"), at: 2),
            reading(nogalesBooth, at: 1, seal: "0e1f-00000008"), reading(elPasoExit, at: 6, seal: "0e1f-00000008"),
            reading(nogalesBooth, at: 2, seal: "0e1f-00000009"),
        ], now: 4 * hour)
        #expect(unplaced == 1)
        #expect(transits.map(\.seal) == ["0e1f-00000008", "0e1f-00000009"])
        #expect(transits.map { $0.destination == nil } == [false, true])
    }

    @Test func aGatewayOnTwoPortsPlacesOnlyTheReadPointsTheFileNames() {
        let shared = [
            PortLayout(id: "a", name: "A", direction: "nb", points: [PortPoint(place: ReadPlace(gateway: "g", readPoint: "1"), stage: .exit)]),
            PortLayout(id: "b", name: "B", direction: "sb", points: [PortPoint(place: ReadPlace(gateway: "g", readPoint: "2"), stage: .exit)]),
        ]
        let t = TransitTracker(ports: shared, routes: [])
        #expect(t.port(of: ReadPlace(gateway: "g", readPoint: "2")) == "b")
        #expect(t.port(of: ReadPlace(gateway: "g", readPoint: "seal")) == nil)
        #expect(tracker.port(of: ReadPlace(gateway: "nogales-booths", readPoint: "lane1/seal")) == "nogales-nb")
    }
}
