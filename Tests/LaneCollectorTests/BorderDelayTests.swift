import AsyncHTTPClient
import Foundation
import LaneAnalytics
import LaneCollector
import LaneCore
import LaneSimulators
import LaneSQLite
import LaneCollectorTestSupport
import LaneTestSupport
import LaneWire
import Testing

/// A simulated port's day delivered as its three gateways would deliver it: tag departures in
/// batches of 15 minutes, over HTTP, to a collector that knows the port's route.
struct DeliveredPort: Sendable {
    let day: PortDay
    let vehicles: [PortDay.Vehicle]
    let visits: [PortDay.Visit]
    let layout: PortLayout
    let batches: [Batch]

    struct Batch: Sendable {
        var gateway: String
        /// When the batch's window closed, UTC.
        var closed: Int64
        var body: [UInt8]
    }

    static let window: Int64 = 900_000_000_000

    /// With `until`, only what the gateways would have delivered by then: visits ended by
    /// `until`, the last window cut short there.
    init(_ day: PortDay, until: Int64? = nil) {
        self.day = day
        let (allVehicles, allVisits) = day.run()
        vehicles = allVehicles
        visits = allVisits.filter { $0.last <= until ?? .max }
        layout = PortLayout(id: day.port, name: day.port, number: "2404", crossing: "Main bridge", direction: "northbound",
                            points: day.points.map {
                                PortPoint(place: ReadPlace(gateway: $0.gateway, readPoint: $0.readPoint), stage: Stage(name: $0.stage)!,
                                          laneType: $0.laneType, lane: $0.lane)
                            })
        let anchor = ClockAnchor(monotonic: .zero, utcNanoseconds: day.midnight, sync: .synchronized, maxErrorMicros: 800, estimatedErrorMicros: 100)
        var out: [Batch] = []
        for gateway in layout.gateways {
            let names = layout.points.filter { $0.place.gateway == gateway }.map(\.place.readPoint)
            let lanes = LaneLayout(
                devices: [.init(name: "rfid", kind: .rfid)],
                readPoints: names.enumerated().map { i, name in
                    .init(name: name, lane: String(name.split(separator: "/").first!), antennas: [.init(device: DeviceIndex(0), port: UInt8(i + 1))])
                })
            let encoder = BatchEncoder(gatewayID: gateway, layout: lanes)
            // A departure is sent in the window its visit ended in.
            let mine = visits.filter { $0.gateway == gateway }.sorted { $0.last < $1.last }
            let windows = Dictionary(grouping: mine) { ($0.last - day.midnight) / Self.window }
            for (sequence, key) in windows.keys.sorted().enumerated() {
                let events: [LaneEvent] = windows[key]!.map { v in
                    .tagDeparted(TagDeparture(readPoint: ReadPointIndex(names.firstIndex(of: v.readPoint)!), tag: TagID(hex: v.tag)!,
                                              firstSeen: MonotonicInstant(nanoseconds: v.first - day.midnight),
                                              lastSeen: MonotonicInstant(nanoseconds: v.last - day.midnight),
                                              readCount: v.reads, peakRSSI: v.peakRSSI, antennas: 1, evicted: false))
                }
                let batch = EventBatch(sequence: UInt64(sequence + 1), events: events, counters: nil, anchor: anchor, priority: false)
                out.append(Batch(gateway: gateway, closed: day.midnight + (key + 1) * Self.window, body: encoder.encode(batch)))
            }
        }
        batches = out.sorted { ($0.closed, $0.gateway) < ($1.closed, $1.gateway) }
    }

    var tokens: GatewayTokens { GatewayTokens(pairs: layout.gateways.map { ($0, Self.token($0)) }) }
    static func token(_ gateway: String) -> String { "token-of-\(gateway)-0123456789" }

    func deliver(_ batches: some Sequence<Batch>, to url: String) async throws {
        for b in batches {
            let (status, answer) = try await post(url, b.body, token: Self.token(b.gateway))
            #expect(status == 200, "\(b.gateway): \(answer)")
        }
    }

    func hour(_ h: Int64) -> Int64 { day.midnight + h * 3_600_000_000_000 }
}

func jsonObject(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}

@Suite(.serialized) struct BorderDelayTests {
    /// Simulating and encoding the day takes seconds in a debug build: done once, off the pool.
    static let delivered = Task { await offThePool { DeliveredPort(PortDay(seed: 5, port: "bota")) } }

    @Test func theCollectorAnswersWaitAndCrossingTimesThatMatchTheTruth() async throws {
        let port = await Self.delivered.value
        try await withCollector(gatewayTokens: port.tokens, ports: [port.layout]) { url, _ in
            try await port.deliver(port.batches, to: url)
            let base = "\(url)/v1/ports/bota"

            let (status, tripsText) = try await get("\(base)/trips?from=\(port.hour(0))&to=\(port.hour(24))")
            #expect(status == 200)
            let trips = jsonObject(tripsText)["trips"] as? [[String: Any]] ?? []
            // The same trips as the analytics computed over the simulator's visits directly.
            let visits = port.visits.map {
                TagVisit(tag: $0.tag, place: ReadPlace(gateway: $0.gateway, readPoint: $0.readPoint), first: $0.first, last: $0.last,
                         reads: $0.reads, peakRSSI: $0.peakRSSI)
            }
            let direct = await offThePool { TripFilter(bounds: port.layout.bounds).filter(TripMatcher(layout: port.layout).trips(from: visits).trips) }
            #expect(trips.count == direct.count)
            // The wire carries times in milliseconds, so a wait's whole seconds may differ by one.
            let served = trips.compactMap { $0["wait_s"] as? Int }
            let directWaits = direct.compactMap { $0.trip.duration(.wait) }.map { Int($0 / 1_000_000_000) }
            #expect(served.count == directWaits.count)
            #expect(abs(served.reduce(0, +) - directWaits.reduce(0, +)) <= served.count / 10)
            // Each tagged vehicle read at its queue end and booth has a trip with its true wait.
            let truth = port.vehicles.filter { $0.tag != nil && $0.readAt.isSuperset(of: ["queue_end", "booth"]) }
            let byTag = Dictionary(grouping: trips) { $0["tag"] as? String ?? "" }
            let matched = truth.filter { v in
                (byTag[v.tag!] ?? []).contains { t in
                    abs((t["queue_end_utc_ns"] as? Int64 ?? 0) - v.queueEnd) <= 3_000_000_000
                        && abs((t["wait_s"] as? Int ?? -1) - Int(v.wait / 1_000_000_000)) <= 3
                }
            }
            #expect(Double(matched.count) >= 0.95 * Double(truth.count), "\(matched.count) of \(truth.count)")

            // CSV carries the same trips, one a line.
            let (_, csv) = try await get("\(base)/trips?from=\(port.hour(0))&to=\(port.hour(24))&format=csv")
            #expect(csv.split(separator: "\n").count == trips.count + 1)
            #expect(csv.hasPrefix("tag,lane_type,lane,queue_end_utc_ns,"))

            // The live figure at 17:00 is the estimator's, and near the truth of the last 15 minutes.
            let at = port.hour(17)
            let (_, liveText) = try await get("\(base)/wait-times?at=\(at)")
            let live = jsonObject(liveText)
            #expect(live["stale"] as? Bool == false)
            let general = (live["lane_types"] as? [[String: Any]] ?? []).first { $0["lane_type"] as? String == "general" } ?? [:]
            let expected = await offThePool { LiveEstimator(layout: port.layout).estimate(at: at, visits: visits).first { $0.laneType == "general" }! }
            #expect(general["wait_s"] as? Int == Int(expected.wait!.rounded()))
            #expect(general["confidence"] as? String == "high")
            let recent = port.vehicles.filter { $0.laneType == "general" && $0.booth > at - 900_000_000_000 && $0.booth <= at }.map(\.wait).sorted()
            let trueWait = Int(recent[(recent.count - 1) / 2] / 1_000_000_000)
            #expect(abs((general["wait_s"] as? Int ?? 0) - trueWait) <= 180, "live \(general["wait_s"] ?? "-") s, true \(trueWait) s")

            let (_, statsText) = try await get("\(base)/stats?bin=15m&from=\(port.hour(0))&to=\(port.hour(24))")
            let stats = jsonObject(statsText)
            let bins = stats["bins"] as? [[String: Any]] ?? []
            #expect(bins.count > 200)
            let measures = stats["measures"] as? [[String: Any]] ?? []
            #expect(Set(measures.compactMap { $0["lane_type"] as? String }) == ["general", "ready", "sentri"])
            #expect(measures.allSatisfy { ($0["planning_time_index"] as? Double ?? 0) >= 1 })
        }
    }

    @Test func aBacklogLandingHoursLateCorrectsTheArchive() async throws {
        let port = await Self.delivered.value
        let query = "trips?from=\(port.hour(0))&to=\(port.hour(24))"
        let stats = "stats?bin=15m&measure=crossing&from=\(port.hour(0))&to=\(port.hour(24))"
        let (wholeTrips, wholeStats) = try await withCollector(gatewayTokens: port.tokens, ports: [port.layout]) { url, _ in
            try await port.deliver(port.batches, to: url)
            return (try await get("\(url)/v1/ports/bota/\(query)").1, try await get("\(url)/v1/ports/bota/\(stats)").1)
        }
        try await withCollector(gatewayTokens: port.tokens, ports: [port.layout]) { url, _ in
            // The queue-end gateway loses its link from 06:00 to 10:00; its spool delivers later.
            let held = { (b: DeliveredPort.Batch) in b.gateway == "bota-queue" && b.closed > port.hour(6) && b.closed <= port.hour(10) }
            try await port.deliver(port.batches.filter { !held($0) }, to: url)
            let during = jsonObject(try await get("\(url)/v1/ports/bota/\(query)").1)["trips"] as? [Any] ?? []
            #expect(during.count < (jsonObject(wholeTrips)["trips"] as? [Any] ?? []).count)
            try await port.deliver(port.batches.filter(held), to: url)
            #expect(try await get("\(url)/v1/ports/bota/\(query)").1 == wholeTrips)
            #expect(try await get("\(url)/v1/ports/bota/\(stats)").1 == wholeStats)
            // Delivered twice (a retry after a lost answer): still the same archive.
            try await port.deliver(port.batches.filter(held), to: url)
            #expect(try await get("\(url)/v1/ports/bota/\(query)").1 == wholeTrips)
        }
    }

    @Test func badQueriesGetAReason() async throws {
        let port = await Self.delivered.value
        try await withCollector(gatewayTokens: port.tokens, ports: [port.layout]) { url, _ in
            let base = "\(url)/v1/ports"
            let (listed, list) = try await get(base)
            #expect(listed == 200 && list.contains("\"id\":\"bota\"") && list.contains("\"sentri\""))
            #expect(try await get("\(base)/nowhere/wait-times").0 == 404)
            for query in ["stats?bin=7m", "stats?measure=speed", "trips?from=10&to=5", "trips?from=abc",
                          "trips?from=0&to=\(3 * 86_400_000_000_000)", "wait-times?at=99999999999999999999",
                          "stats?from=0&to=\(8 * 86_400_000_000_000)"] {
                let (status, answer) = try await get("\(base)/bota/\(query)")
                #expect(status == 400, "\(query): \(status)")
                #expect(answer.contains("\"error\""), "\(query): \(answer)")
            }
            #expect(try await get("\(base)/bota/wait-times", token: nil).0 == 401)
        }
    }
}

@Suite struct PortLayoutFileTests {
    let good = """
        [[port]]
        id = "bota"
        name = "Bridge of the Americas"
        direction = "northbound"
        max_wait_minutes = 180

        [[port.point]]
        stage = "queue_end"
        gateway = "gw-a"
        read_point = "approach"
        lane_type = "general"

        [[port.point]]
        stage = "booth"
        gateway = "gw-b"
        read_point = "lane1/booth"
        lane_type = "general"
        lane = "lane1"
        """

    @Test func aGoodFileGivesItsPorts() throws {
        let ports = try PortLayoutFile.parse(good, file: "ports.toml", knownGateways: ["gw-a", "gw-b"])
        #expect(ports.count == 1)
        #expect(ports[0].bounds.maxWait == 180 * 60_000_000_000)
        #expect(ports[0].points.map(\.stage) == [.queueEnd, .booth])
        #expect(ports[0].laneTypes == ["general"])
    }

    @Test func eachProblemIsReportedWithItsLine() {
        let bad = good.replacingOccurrences(of: "gateway = \"gw-b\"", with: "gateway = \"gw-z\"")
            .replacingOccurrences(of: "stage = \"queue_end\"", with: "stage = \"queue\"")
            + "\n\n[[port]]\nid = \"two\"\ndirection = \"southbound\"\n[[port.point]]\nstage = \"exit\"\ngateway = \"gw-b\"\nread_point = \"lane1/booth\"\n"
        do {
            _ = try PortLayoutFile.parse(bad, file: "ports.toml", knownGateways: ["gw-a", "gw-b"])
            Issue.record("a bad file was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("ports.toml:8: port[0].point[0].stage: must be \"queue_end\", \"booth\" or \"exit\""), "\(text)")
            #expect(text.contains("ports.toml:15: port[0].point[1].gateway: \"gw-z\" is not a known gateway"), "\(text)")
            #expect(text.contains("port[0]: needs a point with stage = \"queue_end\""), "\(text)")
            #expect(text.contains("port[1]: needs a point with stage = \"queue_end\""), "\(text)")
        }
    }

    @Test func aReadPointBelongsToOneRoute() {
        let twice = good + "\n\n[[port.point]]\nstage = \"exit\"\ngateway = \"gw-b\"\nread_point = \"lane1/booth\"\n"
        #expect { try PortLayoutFile.parse(twice, file: "p.toml") } throws: { "\($0)".contains("gw-b/lane1/booth is already a point of port \"bota\"") }
        #expect { try PortLayoutFile.parse("", file: "p.toml") } throws: { "\($0)".contains("defines no [[port]]") }
    }
}

@Suite struct LiveStreamAndFeedTests {
    @Test func theLiveStreamSpeaksAtOnceAndAgainWhenAGatewayDelivers() async throws {
        let now = ClockAnchor.now().utcNanoseconds
        let port = await offThePool { DeliveredPort(PortDay(seed: 9, port: "bota", midnight: now - 10 * 3_600_000_000_000), until: now) }
        try await withCollector(gatewayTokens: port.tokens, ports: [port.layout]) { url, collector in
            let (early, late) = (port.batches.dropLast(6), port.batches.suffix(6))
            try await port.deliver(early, to: url)
            var request = HTTPClientRequest(url: "\(url)/v1/ports/bota/live")
            request.headers.add(name: "Authorization", value: "Bearer \(readToken)")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(response.headers["Content-Type"].first == "text/event-stream")
            var body = response.body.makeAsyncIterator()
            var text = ""
            func nextEvent() async throws -> [String: Any] {
                while !text.contains("\n\n") {
                    guard let chunk = try await body.next() else { return [:] }
                    text += String(buffer: chunk)
                }
                let event = String(text[..<text.range(of: "\n\n")!.lowerBound])
                text = String(text[text.range(of: "\n\n")!.upperBound...])
                #expect(event.hasPrefix("event: wait-times\ndata: "))
                return jsonObject(String(event.dropFirst("event: wait-times\ndata: ".count)))
            }
            let first = try await nextEvent()
            #expect(first["port"] as? String == "bota")
            #expect(collector.updates.count == 1)
            let started = ContinuousClock.now
            try await port.deliver(late, to: url)
            let second = try await nextEvent()
            // Woken by the batches, not by the 15 s heartbeat.
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect((second["at_utc_ns"] as? Int64 ?? 0) > (first["at_utc_ns"] as? Int64 ?? 0))
        }
    }

    @Test func theFeedHasTheShapeOfTheCBPBorderWaitTimesFeed() async throws {
        let now = ClockAnchor.now().utcNanoseconds
        let day = PortDay(seed: 10, port: "bota", midnight: now - 12 * 3_600_000_000_000)
        let port = await offThePool { DeliveredPort(day, until: now) }
        try await withCollector(gatewayTokens: port.tokens, ports: [port.layout]) { url, _ in
            try await port.deliver(port.batches, to: url)
            let (status, xml) = try await get("\(url)/v1/feed/bwt.xml")
            #expect(status == 200)
            #expect(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<border_wait_time>"))
            for element in ["<port_number>2404</port_number>", "<crossing_name>Main bridge</crossing_name>",
                            "<passenger_vehicle_lanes><maximum_lanes>7</maximum_lanes><standard_lanes><update_time>At ",
                            "<NEXUS_SENTRI_lanes>", "<ready_lanes>", "<lanes_open>4</lanes_open>"] {
                #expect(xml.contains(element), "\(element) in \(xml)")
            }
            let (_, json) = try await get("\(url)/v1/feed/bwt.json")
            let record = ((try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [[String: Any]])?.first ?? [:]
            let standard = (record["passenger_vehicle_lanes"] as? [String: Any])?["standard_lanes"] as? [String: String] ?? [:]
            let (_, live) = try await get("\(url)/v1/ports/bota/wait-times")
            let general = (jsonObject(live)["lane_types"] as? [[String: Any]] ?? []).first { $0["lane_type"] as? String == "general" } ?? [:]
            let liveMinutes = Int(((Double(general["wait_s"] as? Int ?? 0)) / 60).rounded())
            #expect(standard["delay_minutes"].flatMap { Int($0) }.map { abs($0 - liveMinutes) <= 1 } == true, "\(standard) vs \(general)")
            #expect(standard["operational_status"] == (liveMinutes == 0 ? "no delay" : "delay"))
        }
    }
}

@Suite struct VisitIndexTests {
    @Test func visitsOfBatchesStoredBeforeTheIndexExistedAreIndexedOnOpen() async throws {
        let path = temporaryDirectory() + "/events.db"
        let body = encodedBatch(gateway: "gw-a", sequence: 1, count: 6)  // three tag arrivals, three vehicles
        let everything = (Int64.min / 2, Int64.max / 2)
        do {
            let store = try SQLiteEventStore(path: path)
            _ = try await store.store(try BatchDecoder.decode(body), body: body, bodyDigest: [1], receivedUTC: 0, backlog: nil)
            let visits = try await store.tagVisits(gateways: ["gw-a"], fromUTC: everything.0, toUTC: everything.1)
            #expect(visits.count == 3 && visits.allSatisfy { $0.open && $0.place.readPoint == "lane1/booth" })
        }
        // As a database from before the index: the batch, and no visit rows.
        let raw = try SQLiteConnection(path: path)
        try raw.execute("DELETE FROM tag_visits; PRAGMA user_version = 0")
        let reopened = try SQLiteEventStore(path: path)
        #expect(try await reopened.tagVisits(gateways: ["gw-a"], fromUTC: everything.0, toUTC: everything.1).count == 3)
        #expect(try raw.integer("PRAGMA user_version") == 2)
    }
}

/// Agencies on both sides of the border, each with its own ports; a public token for the feed.
@Suite struct ReadScopeTests {
    @Test func eachReaderSeesWhatItsScopeGrantsAndNothingElse() async throws {
        let now = ClockAnchor.now().utcNanoseconds
        let (bota, pharr) = await offThePool {
            (DeliveredPort(PortDay(seed: 12, port: "bota", midnight: now - 3_600_000_000_000), until: now),
             DeliveredPort(PortDay(seed: 13, port: "pharr", midnight: now - 3_600_000_000_000), until: now))
        }
        let tokens = GatewayTokens(pairs: (bota.layout.gateways + pharr.layout.gateways).map { ($0, DeliveredPort.token($0)) })
        let readers = ReadTokens(readers: [
            (Reader(name: "aduana-bota", scope: .ports(["bota"])), "token-of-the-bota-agency"),
            (Reader(name: "cbp-pharr", scope: .ports(["pharr"])), "token-of-the-pharr-agency"),
            (Reader(name: "wait-site", scope: .public), "token-of-a-public-website"),
            (Reader(name: "operations", scope: .admin), "token-of-the-operations-team"),
        ])
        try await withCollector(gatewayTokens: tokens, ports: [bota.layout, pharr.layout], readAccess: .tokens(readers)) { url, _ in
            try await bota.deliver(bota.batches.prefix(4), to: url)
            try await pharr.deliver(pharr.batches.prefix(4), to: url)
            func status(_ path: String, _ token: String) async throws -> Int { try await get(url + path, token: token).0 }

            // An agency: its port, its gateways' events and state; not the other's.
            let agency = "token-of-the-bota-agency"
            #expect(try await status("/v1/ports/bota/wait-times", agency) == 200)
            #expect(try await status("/v1/ports/bota/trips", agency) == 200)
            #expect(try await status("/v1/ports/pharr/wait-times", agency) == 403)
            #expect(try await status("/v1/ports/pharr/live", agency) == 403)
            #expect(try await get(url + "/v1/ports", token: agency).1.contains("\"pharr\"") == false)
            #expect(try await status("/v1/events?gateway=bota-booths", agency) == 200)
            #expect(try await status("/v1/events?gateway=pharr-booths", agency) == 403)
            #expect(try await status("/v1/events", agency) == 403)
            let (_, gateways) = try await get(url + "/v1/gateways", token: agency)
            #expect(gateways.contains("bota-queue") && !gateways.contains("pharr"))

            // The public: the feed, nothing else.
            let site = "token-of-a-public-website"
            #expect(try await status("/v1/feed/bwt.xml", site) == 200)
            for path in ["/v1/ports", "/v1/ports/bota/wait-times", "/v1/events?gateway=bota-booths", "/v1/gateways"] {
                #expect(try await status(path, site) == 403, "\(path)")
            }
            // Operations: everything.
            let admin = "token-of-the-operations-team"
            for path in ["/v1/ports/pharr/wait-times", "/v1/ports/bota/stats", "/v1/events", "/v1/gateways"] {
                #expect(try await status(path, admin) == 200, "\(path)")
            }
            #expect(try await get(url + "/v1/ports", token: admin).1.contains("\"pharr\""))
            #expect(try await status("/v1/ports/bota/wait-times", "token-nobody-was-given-0000") == 401)
        }
    }
}
