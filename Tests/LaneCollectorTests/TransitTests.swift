import Foundation
import LaneAnalytics
import LaneCollector
import LaneCore
import LaneSQLite
import LaneCollectorTestSupport
import LaneTestSupport
import LaneWire
import Testing

/// Two ports on a sealed shipment's road, a day's drive apart, and a third that has nothing to
/// do with it: the places of this file's and AlarmTests' batches.
let nogales = PortLayout(id: "nogales-nb", name: "Nogales", direction: "northbound", points: [
    PortPoint(place: ReadPlace(gateway: "nogales-booths", readPoint: "lane1/seal"), stage: .booth, laneType: "commercial"),
])
let elPaso = PortLayout(id: "elpaso-nb", name: "El Paso", direction: "northbound", points: [
    PortPoint(place: ReadPlace(gateway: "elpaso-exit", readPoint: "exit/seal"), stage: .exit),
])
let pharr = PortLayout(id: "pharr-nb", name: "Pharr", direction: "northbound", points: [
    PortPoint(place: ReadPlace(gateway: "pharr-exit", readPoint: "exit/seal"), stage: .exit),
])
let hour: Int64 = 3_600_000_000_000
let nogalesToElPaso = TransitRoute(from: "nogales-nb", to: "elpaso-nb", expected: 8 * hour)

/// A batch from `gateway`'s e-seal receiver at `readPoint` and its loop, its clock anchored at `start`.
func sealBatch(_ gateway: String, _ readPoint: String, sequence: UInt64, start: Int64, _ events: [LaneEvent]) -> [UInt8] {
    let layout = LaneLayout(devices: [.init(name: "eseal", kind: .eseal), .init(name: "loops", kind: .loops)],
                            readPoints: [.init(name: readPoint, lane: "lane1", antennas: [.init(device: DeviceIndex(0), port: 1)])],
                            loops: [.init(name: "lane1/loop-a", lane: "lane1", device: DeviceIndex(1), line: 0)])
    let clock = ClockAnchor(monotonic: .zero, utcNanoseconds: start, sync: .synchronized, maxErrorMicros: 800, estimatedErrorMicros: 100)
    return BatchEncoder(gatewayID: gateway, layout: layout)
        .encode(EventBatch(sequence: sequence, events: events, counters: nil, anchor: clock, priority: events.contains(where: \.isPriority)))
}

/// Seal `0e1f-<seal>`'s first report at a batch's read point, `seconds` after its clock anchor.
func seen(_ seal: UInt32, at seconds: Int64, status: SealStatus = .sealed, events: UInt16) -> LaneEvent {
    .sealSeen(SealSighting(readPoint: 0, seal: SealID(manufacturer: 0x0E1F, tag: seal), time: MonotonicInstant(nanoseconds: seconds * 1_000_000_000),
                           status: status, eventCount: events, eventTime: 0, rssi: -60))
}

@Suite struct TransitTests {
    @Test func sealsAreFollowedBetweenPortsAndEachAgencySeesItsOwnPortsTransits() async throws {
        let start = ClockAnchor.now().utcNanoseconds - 12 * hour
        let gateways = GatewayTokens(pairs: [("nogales-booths", "token-of-the-nogales-booths"), ("elpaso-exit", "token-of-the-elpaso-exit"),
                                             ("pharr-exit", "token-of-the-pharr-exit")])
        let readers = ReadTokens(readers: [
            (Reader(name: "aduana-nogales", scope: .ports(["nogales-nb"])), "token-of-the-nogales-agency"),
            (Reader(name: "cbp-el-paso", scope: .ports(["elpaso-nb"])), "token-of-the-el-paso-agency"),
            (Reader(name: "cbp-pharr", scope: .ports(["pharr-nb"])), "token-of-the-pharr-agency"),
            (Reader(name: "wait-site", scope: .public), "token-of-a-public-website"),
            (Reader(name: "operations", scope: .admin), "token-of-the-operations-team"),
        ])
        try await withCollector(gatewayTokens: gateways, ports: [nogales, elPaso, pharr], transitRoutes: [nogalesToElPaso],
                                readAccess: .tokens(readers)) { url, _ in
            // Seal 1 opened on the road (its counter moved, no approved opening); seal 2 left
            // Nogales 10 hours ago and has not arrived; seal 3 made the trip untouched.
            let nogalesBatch = sealBatch("nogales-booths", "lane1/seal", sequence: 1, start: start,
                                         [seen(2, at: 2 * 3600, events: 1), seen(1, at: 6 * 3600, events: 3), seen(3, at: 7 * 3600, events: 1)])
            let elPasoBatch = sealBatch("elpaso-exit", "exit/seal", sequence: 1, start: start,
                                        [seen(3, at: 10 * 3600, events: 1), seen(1, at: 11 * 3600, status: .opened, events: 4)])
            #expect(try await post(url, nogalesBatch, token: "token-of-the-nogales-booths").0 == 200)
            #expect(try await post(url, elPasoBatch, token: "token-of-the-elpaso-exit").0 == 200)

            func transits(_ query: String, _ token: String) async throws -> [[String: Any]] {
                let (status, body) = try await get(url + "/v1/transits" + query, token: token)
                #expect(status == 200, "\(query): \(body)")
                return jsonObject(body)["transits"] as? [[String: Any]] ?? []
            }
            let admin = "token-of-the-operations-team"
            let all = try await transits("", admin)
            #expect(all.compactMap { $0["seal"] as? String } == ["0e1f-00000001", "0e1f-00000002", "0e1f-00000003"])
            let opened = try #require(all.first)
            #expect(opened["state"] as? String == "arrived" && opened["tampered"] as? Bool == true && opened["events_between"] as? Int == 1)
            #expect((opened["destination"] as? [String: Any])?["arriving_status"] as? [String] == ["opened"])
            #expect(opened["elapsed_s"] as? Int == 5 * 3600 && opened["expected_s"] as? Int == 8 * 3600 && opened["overdue"] as? Bool == false)
            let lost = all[1]
            #expect(lost["state"] as? String == "under_way" && lost["overdue"] as? Bool == true && lost["destination"] is NSNull)
            #expect(all[2]["tampered"] as? Bool == false && all[2]["opened"] as? Bool == false)

            #expect(try await transits("?state=tampered", admin).compactMap { $0["seal"] as? String } == ["0e1f-00000001"])
            #expect(try await transits("?state=overdue", admin).compactMap { $0["seal"] as? String } == ["0e1f-00000002"])
            #expect(try await transits("?seal=0E1F-00000003", admin).count == 1)

            // Both agencies on a shipment's road see it; an agency elsewhere sees nothing of it.
            #expect(try await transits("", "token-of-the-nogales-agency").count == 3)
            #expect(try await transits("", "token-of-the-el-paso-agency").compactMap { $0["seal"] as? String } == ["0e1f-00000001", "0e1f-00000003"])
            #expect(try await transits("", "token-of-the-pharr-agency").isEmpty)
            #expect(try await get(url + "/v1/transits?port=nogales-nb", token: "token-of-the-pharr-agency").0 == 403)
            #expect(try await get(url + "/v1/transits", token: "token-of-a-public-website").0 == 403)
            #expect(try await get(url + "/v1/transits", token: nil).0 == 401)

            for bad in ["?seal=not-a-seal", "?state=lost", "?port=nowhere", "?from=10&to=5", "?from=0&to=999999999999999999"] {
                let (status, body) = try await get(url + "/v1/transits" + bad, token: admin)
                #expect(status == 400 && body.contains("error"), "\(bad): \(status) \(body)")
            }
        }
    }

    @Test func sealReadingsOfBatchesStoredBeforeTheirIndexExistedAreIndexedOnOpen() async throws {
        let path = temporaryDirectory() + "/events.db"
        let body = sealBatch("gw-a", "lane1/seal", sequence: 1, start: anchor.utcNanoseconds,
                             [seen(1, at: 0, events: 1), seen(2, at: 3600, events: 1)])
        let everything = (Int64.min / 2, Int64.max / 2)
        do {
            let store = try SQLiteEventStore(path: path)
            _ = try await store.store(try BatchDecoder.decode(body), body: body, bodyDigest: [1], receivedUTC: 0, backlog: nil)
            #expect(try await store.sealReadings(fromUTC: everything.0, toUTC: everything.1, seal: nil).count == 2)
        }
        // As a database from the version before seal readings: visits indexed, seals not.
        let raw = try SQLiteConnection(path: path)
        try raw.execute("DELETE FROM seal_readings; PRAGMA user_version = 1")
        let reopened = try SQLiteEventStore(path: path)
        #expect(try await reopened.sealReadings(fromUTC: everything.0, toUTC: everything.1, seal: nil).count == 2)
        #expect(try await reopened.eventCount(gateway: nil) == 2)
        #expect(try raw.integer("PRAGMA user_version") == 2)
    }
}

@Suite struct TransitRouteFileTests {
    let ports = """
        [[port]]
        id = "nogales-nb"
        name = "nogales-nb"
        direction = "northbound"
        [[port.point]]
        stage = "queue_end"
        gateway = "gw-a"
        read_point = "approach"
        [[port.point]]
        stage = "exit"
        gateway = "gw-a"
        read_point = "exit"
        [[port]]
        id = "elpaso-nb"
        name = "elpaso-nb"
        direction = "northbound"
        [[port.point]]
        stage = "queue_end"
        gateway = "gw-b"
        read_point = "approach"
        [[port.point]]
        stage = "exit"
        gateway = "gw-b"
        read_point = "exit"

        """

    @Test func routesComeWithTheirExpectedTimes() throws {
        let file = try PortLayoutFile.read(ports + """
            [[transit]]
            from = "nogales-nb"
            to = "elpaso-nb"
            expected_minutes = 480
            """, file: "ports.toml")
        #expect(file.transitRoutes == [TransitRoute(from: "nogales-nb", to: "elpaso-nb", expected: 480 * 60_000_000_000)])
    }

    @Test(arguments: [
        ("from = \"nogales-nb\"\nto = \"laredo\"\nexpected_minutes = 60", "transit[0].to: \"laredo\" is not a port of this file"),
        ("from = \"nogales-nb\"\nto = \"nogales-nb\"\nexpected_minutes = 60", "must differ from from"),
        ("from = \"nogales-nb\"\nto = \"elpaso-nb\"", "expected_minutes: missing"),
        ("from = \"nogales-nb\"\nto = \"elpaso-nb\"\nexpected_minutes = 0", "expected_minutes: must be a whole number from 1"),
        ("from = \"nogales-nb\"\nto = \"elpaso-nb\"\nexpected_minutes = 60\nvia = \"x\"", "unknown key"),
    ])
    func aBadRouteIsReportedWithWhereItIs(_ route: String, _ message: String) {
        #expect {
            try PortLayoutFile.read(ports + "[[transit]]\n" + route + "\n", file: "ports.toml")
        } throws: { "\($0)".contains(message) }
    }

    @Test func aRouteGivenTwiceIsAnError() {
        let route = "[[transit]]\nfrom = \"nogales-nb\"\nto = \"elpaso-nb\"\nexpected_minutes = 60\n"
        #expect { try PortLayoutFile.read(ports + route + route, file: "ports.toml") } throws: { "\($0)".contains("defined twice") }
    }
}
