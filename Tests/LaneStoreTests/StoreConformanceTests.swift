import LaneAnalytics
import LaneCollector
import LaneCore
import LaneTestSupport
import LaneWire
import Testing

/// What every store must do, run against SQLite and PostgreSQL alike.
@Suite("EventStore conformance")
struct StoreConformanceTests {
    @Test(arguments: StoreKind.allCases)
    func storesEachBatchOnceAndTellsARepeatFromAConflict(_ kind: StoreKind) async throws {
        try await withStore(kind) { (store: any EventStore) async throws in
            let first = TestBatch(gateway: "gw-a", sequence: 1, events: mixed(5))
            #expect(try await first.store(in: store) == .stored(events: 5))
            #expect(try await first.store(in: store) == .duplicate(events: 5))
            let other = TestBatch(gateway: "gw-a", sequence: 1, events: mixed(4))
            #expect(try await other.store(in: store) == .conflict)
            #expect(try await TestBatch(gateway: "gw-b", sequence: 1, events: mixed(3)).store(in: store) == .stored(events: 3))
            #expect(try await store.eventCount(gateway: "gw-a") == 5)
            #expect(try await store.eventCount(gateway: nil) == 8)
            #expect(try await store.eventCount(gateway: "gw-none") == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func manyCopiesOfOneBatchAtOnceAreStoredOnce(_ kind: StoreKind) async throws {
        try await withStore(kind) { (store: any EventStore) async throws in
            let batches = (1...40).map { TestBatch(gateway: $0 % 2 == 0 ? "gw-a" : "gw-b", sequence: UInt64($0), events: mixed(6)) }
            let outcomes = try await withThrowingTaskGroup(of: StoreOutcome.self) { group in
                for b in batches { for _ in 0..<4 { group.addTask { try await b.store(in: store) } } }
                return try await group.reduce(into: [StoreOutcome]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .stored(events: 6) }.count == 40)
            #expect(outcomes.filter { $0 == .duplicate(events: 6) }.count == 120)
            #expect(try await store.eventCount(gateway: nil) == 240)
            let summaries = try await store.gateways()
            #expect(summaries.map(\.batches) == [20, 20] && summaries.map(\.events) == [120, 120])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func pagesThroughEveryEventOnceInStorageOrder(_ kind: StoreKind) async throws {
        try await withStore(kind) { (store: any EventStore) async throws in
            for s in 1...12 {
                for gw in ["gw-a", "gw-b"] {
                    _ = try await TestBatch(gateway: gw, sequence: UInt64(s), events: mixed(7, start: Double(s * 100))).store(in: store)
                }
            }
            var query = EventQuery()
            query.limit = 10
            var seen: [Int64] = [], keys = Set<String>()
            while true {
                let page = try await store.events(query)
                if page.events.isEmpty { break }
                seen += page.events.map(\.id)
                for e in page.events { keys.insert("\(e.gateway)/\(e.sequence)/\(e.id & 0xFFFF)") }
                query.after = page.resumeAfter
            }
            #expect(seen.count == 168 && keys.count == 168)
            #expect(seen == seen.sorted() && Set(seen).count == seen.count)

            // A scan budget smaller than a batch still gets through, page by page.
            var narrow = EventQuery()
            narrow.gateway = "gw-b"
            narrow.type = "vehicle"
            narrow.maxScanned = 5
            var vehicles = 0, rounds = 0
            while rounds < 100 {
                rounds += 1
                let page = try await store.events(narrow)
                vehicles += page.events.count
                if page.resumeAfter == narrow.after { break }
                narrow.after = page.resumeAfter
            }
            #expect(vehicles == 12 * 2)
            #expect(try await store.events(narrow).events.allSatisfy { $0.gateway == "gw-b" && $0.json.contains("\"vehicle\"") })

            var window = EventQuery()
            window.fromUTC = anchor.utcNanoseconds + 300 * 1_000_000_000
            window.toUTC = anchor.utcNanoseconds + 303 * 1_000_000_000
            window.lane = "lane1"
            let inWindow = try await store.events(window).events
            #expect(inWindow.count == 6, "3 events a gateway in [300 s, 303 s)")
            #expect(inWindow.allSatisfy { $0.utcNanoseconds >= window.fromUTC! && $0.utcNanoseconds < window.toUTC! })
        }
    }

    @Test(arguments: StoreKind.allCases)
    func summarizesEachGatewayWithItsDevicesLatestState(_ kind: StoreKind) async throws {
        try await withStore(kind) { (store: any EventStore) async throws in
            let lost: LaneEvent = .gap(Gap(time: at(1), reason: .ringOverflow, device: DeviceIndex(0), lost: 40))
            let reading: LaneEvent = .deviceStatus(DeviceStatusChange(device: DeviceIndex(0), state: .reading, detail: "ok", time: at(50)))
            let older: LaneEvent = .deviceStatus(DeviceStatusChange(device: DeviceIndex(0), state: .lost, detail: "unplugged", time: at(10)))
            _ = try await TestBatch(gateway: "gw-a", sequence: 2, events: [lost, reading]).store(in: store, receivedUTC: 200, backlog: 7)
            // An older status that arrives later (a backlog) does not overwrite the newer one.
            _ = try await TestBatch(gateway: "gw-a", sequence: 1, events: [older]).store(in: store, receivedUTC: 300, backlog: nil)
            let gw = try #require(try await store.gateways().first)
            #expect(gw.id == "gw-a" && gw.batches == 2 && gw.events == 3 && gw.lastSequence == 2 && gw.lastSeenUTC == 300)
            #expect(gw.gapEvents == 1 && gw.lostReported == 40)
            #expect(gw.backlogReported == 7, "a batch without a backlog header keeps the last one reported")
            #expect(gw.devices == ["rfid-a": "reading"])
            #expect(gw.clockSync == "synchronized" && gw.clockMaxErrorMicros == 800)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func indexesTagVisitsAndLanesWithVehicles(_ kind: StoreKind) async throws {
        try await withStore(kind) { (store: any EventStore) async throws in
            _ = try await TestBatch(gateway: "gw-a", sequence: 1, events: [
                arrival(1, at: 10), departure(2, from: 20, to: 25, readPoint: 1), vehicle(at: 30, loop: 1), arrival(3, at: 40),
            ]).store(in: store)
            _ = try await TestBatch(gateway: "gw-b", sequence: 1, events: [arrival(4, at: 15), vehicle(at: 16)]).store(in: store)
            let t0 = anchor.utcNanoseconds, s: Int64 = 1_000_000_000
            let visits = try await store.tagVisits(gateways: ["gw-a"], fromUTC: t0 + 10 * s, toUTC: t0 + 40 * s)
            #expect(Set(visits.map(\.tag)) == [tag(1).hex, tag(2).hex], "[from, to): 40 s is out")
            let closed = try #require(visits.first { $0.tag == tag(2).hex })
            #expect(!closed.open && closed.first == t0 + 20 * s && closed.last == t0 + 25 * s && closed.reads == 7)
            #expect(closed.place == ReadPlace(gateway: "gw-a", readPoint: "lane2/booth"))
            #expect(visits.first { $0.tag == tag(1).hex }?.open == true)
            #expect(try await store.tagVisits(gateways: ["gw-a", "gw-b"], fromUTC: t0, toUTC: t0 + 100 * s).count == 4)
            #expect(try await store.tagVisits(gateways: [], fromUTC: t0, toUTC: t0 + 100 * s).isEmpty)

            let lanes = try await store.lanesWithVehicles(gateways: ["gw-a", "gw-b"], fromUTC: t0, toUTC: t0 + 100 * s)
            #expect(lanes == [GatewayLane(gateway: "gw-a", lane: "lane2"), GatewayLane(gateway: "gw-b", lane: "lane1")])
            #expect(try await store.lanesWithVehicles(gateways: ["gw-a"], fromUTC: t0 + 31 * s, toUTC: t0 + 100 * s).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func indexesSealReadingsForTransits(_ kind: StoreKind) async throws {
        try await withStore(kind) { (store: any EventStore) async throws in
            let seal = SealID(manufacturer: 0x0E1F, tag: 0xFFFF_FFF0), other = SealID(manufacturer: 1, tag: 2)
            _ = try await TestBatch(gateway: "gw-a", sequence: 1, events: [
                .sealSeen(SealSighting(readPoint: 1, seal: seal, time: at(10), status: .sealed, eventCount: 65_535, eventTime: 0, rssi: -60)),
                .sealChanged(SealChange(readPoint: 1, seal: seal, time: at(20), previous: .sealed, status: [.tampered, .opened],
                                        eventCount: 0, eventTime: 0)),
                .sealDeparted(SealDeparture(readPoint: 1, seal: seal, firstSeen: at(10), lastSeen: at(25), reportCount: 9,
                                            status: [.tampered, .opened], evicted: false)),
                arrival(1, at: 12),
            ]).store(in: store)
            _ = try await TestBatch(gateway: "gw-b", sequence: 1, events: [
                .sealSeen(SealSighting(readPoint: 0, seal: other, time: at(30), status: .lowBattery, eventCount: 2, eventTime: 0, rssi: -60)),
            ]).store(in: store)
            let t0 = anchor.utcNanoseconds, s: Int64 = 1_000_000_000
            let all = try await store.sealReadings(fromUTC: t0, toUTC: t0 + 100 * s, seal: nil).sorted { $0.utc < $1.utc }
            #expect(all == [
                SealReading(seal: "0e1f-fffffff0", place: ReadPlace(gateway: "gw-a", readPoint: "lane2/booth"), utc: t0 + 10 * s,
                            status: 0, eventCount: 65_535),
                SealReading(seal: "0e1f-fffffff0", place: ReadPlace(gateway: "gw-a", readPoint: "lane2/booth"), utc: t0 + 20 * s,
                            status: 0xA0, eventCount: 0),
                SealReading(seal: "0001-00000002", place: ReadPlace(gateway: "gw-b", readPoint: "lane1/booth"), utc: t0 + 30 * s,
                            status: 0x40, eventCount: 2),
            ], "departures add no reading; statuses and the counter's extremes come back whole")
            #expect(try await store.sealReadings(fromUTC: t0, toUTC: t0 + 100 * s, seal: "0001-00000002").map(\.utc) == [t0 + 30 * s])
            #expect(try await store.sealReadings(fromUTC: t0 + 11 * s, toUTC: t0 + 30 * s, seal: nil).map(\.utc) == [t0 + 20 * s],
                    "[from, to)")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func recordsEachAlarmOnceAndKeepsItsFirstAcknowledgement(_ kind: StoreKind) async throws {
        try await withStore(kind) { (store: any EventStore) async throws in
            func alarm(_ key: String, raised: Int64) -> Alarm {
                Alarm(id: Alarm.id(key), kind: .detectorFault, gateway: "gw-a", ports: ["bota-nb", "bota-sb"], utc: raised - 5,
                      raisedUTC: raised, detail: "loop lane1/loop-a of gw-a: max_presence")
            }
            let (a, b, c) = (alarm("a", raised: 100), alarm("b", raised: 200), alarm("c", raised: 300))
            #expect(try await store.raise([a, b]) == [a, b])
            // Raised again (a second collector, a sweep): only the new one is new.
            #expect(try await store.raise([b, c, a]) == [c])
            #expect(try await store.raise([]) == [])
            #expect(try await store.alarms(raisedFrom: 100, to: 300, limit: 10) == [a, b], "[from, to), in raise order")
            #expect(try await store.alarms(raisedFrom: 0, to: .max, limit: 2) == [a, b])
            #expect(try await store.alarm(id: c.id) == c)
            #expect(try await store.alarm(id: "no-such-alarm") == nil)

            let acked = try #require(try await store.acknowledge(alarm: b.id, by: "cbp-el-paso", atUTC: 500))
            #expect(acked.acknowledgedBy == "cbp-el-paso" && acked.acknowledgedUTC == 500 && acked.ports == ["bota-nb", "bota-sb"])
            #expect(try await store.acknowledge(alarm: b.id, by: "operations", atUTC: 600) == acked)
            #expect(try await store.acknowledge(alarm: "no-such-alarm", by: "operations", atUTC: 600) == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func queuesEachNewAlarmForItsWebhooksAndLendsEachDeliveryToOneSenderAtATime(_ kind: StoreKind) async throws {
        try await withStore(kind) { (store: any EventStore) async throws in
            func alarm(_ key: String, raised: Int64) -> Alarm {
                Alarm(id: Alarm.id(key), kind: .sealTampered, gateway: "gw-a", ports: ["bota-nb"], utc: raised - 5, raisedUTC: raised,
                      detail: "seal 0e1f-00000001 tampered")
            }
            let (a, b) = (alarm("a", raised: 100), alarm("b", raised: 200))
            #expect(try await store.raise([a, b], webhooks: [a.id: ["c5", "ops"], b.id: ["ops"]]) == [a, b])
            // Raised again with other webhooks named: not new, so nothing more is queued.
            #expect(try await store.raise([a], webhooks: [a.id: ["late"]]) == [])
            #expect(try await store.claimDeliveries(webhook: "late", dueAt: 1_000, leaseUntil: 2_000, limit: 10) == [])
            #expect(try await store.claimDeliveries(webhook: "ops", dueAt: 150, leaseUntil: 2_000, limit: 10).map(\.alarm) == [a],
                    "due from the time it was raised")

            // Claimed: counted, and held until the lease ends; then due again (its sender died).
            let held = try await store.claimDeliveries(webhook: "ops", dueAt: 1_000, leaseUntil: 2_000, limit: 10)
            #expect(held.map(\.alarm.id) == [b.id] && held.map(\.attempts) == [1] && held.map(\.nextAttemptUTC) == [2_000])
            #expect(try await store.claimDeliveries(webhook: "ops", dueAt: 1_999, leaseUntil: 3_000, limit: 10) == [])
            let again = try await store.claimDeliveries(webhook: "ops", dueAt: 2_000, leaseUntil: 3_000, limit: 10)
            #expect(again.map(\.alarm.id).sorted() == [a.id, b.id].sorted() && again.map(\.attempts).sorted() == [2, 2])

            try await store.settle(AlarmDelivery.Key(alarm: a.id, webhook: "ops"), .delivered(atUTC: 2_100))
            try await store.settle(AlarmDelivery.Key(alarm: b.id, webhook: "ops"), .failed(error: "HTTP 503", retryAtUTC: 5_000))
            #expect(try await store.claimDeliveries(webhook: "ops", dueAt: 4_999, leaseUntil: 9_000, limit: 10) == [])
            let retried = try #require(try await store.claimDeliveries(webhook: "ops", dueAt: 5_000, leaseUntil: 9_000, limit: 10).first)
            #expect(retried.attempts == 3 && retried.lastError == "HTTP 503" && retried.alarm == b)
            try await store.settle(retried.key, .dead(error: "HTTP 500"))
            // A late answer for a delivery already settled changes nothing.
            try await store.settle(AlarmDelivery.Key(alarm: a.id, webhook: "ops"), .dead(error: "late"))

            let delivered = try await store.deliveries(.delivered, limit: 10)
            #expect(delivered.count == 1 && delivered.first?.deliveredUTC == 2_100 && delivered.first?.webhook == "ops")
            let dead = try await store.deliveries(.dead, limit: 10)
            #expect(dead.map(\.key) == [retried.key] && dead.first?.lastError == "HTTP 500" && dead.first?.attempts == 3)
            #expect(try await store.deliveries(.pending, limit: 10).map(\.key) == [AlarmDelivery.Key(alarm: a.id, webhook: "c5")])

            // An operator sends the dead letters again: due now, attempts counted afresh.
            #expect(try await store.retryDeadDeliveries(webhook: "c5", now: 10_000) == 0)
            #expect(try await store.retryDeadDeliveries(webhook: "ops", now: 10_000) == 1)
            let revived = try await store.claimDeliveries(webhook: "ops", dueAt: 10_000, leaseUntil: 11_000, limit: 10)
            #expect(revived.map(\.key) == [retried.key] && revived.map(\.attempts) == [1])
            #expect(try await store.deliveries(.dead, limit: 10).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func absurdValuesAreRefusedOrStoredWithoutHarm(_ kind: StoreKind) async throws {
        try await withStore(kind) { (store: any EventStore) async throws in
            // (Sequences beyond 2^63 - 1 never reach a store: the batch decoder refuses them.)
            // Times as far from now as the decoder lets through (200 years either side of 1970),
            // and names with NUL bytes in them.
            let years200: Int64 = 200 * 365 * 86_400 * 1_000_000_000
            let early = TestBatch(gateway: "gw-a", sequence: 1, events: mixed(3), utcAtZero: -years200)
            let late = TestBatch(gateway: "gw-a", sequence: 2, events: mixed(3), utcAtZero: years200)
            let named = TestBatch(gateway: "gw-a", sequence: 3,
                                  events: [.deviceStatus(DeviceStatusChange(device: DeviceIndex(0), state: .error, detail: "bad\0byte", time: at(1)))],
                                  devices: ["rfid\0a", "loops"])
            for b in [early, late, named] {
                let n = b.decoded.events.count
                #expect(try await b.store(in: store) == .stored(events: n))
                #expect(try await b.store(in: store) == .duplicate(events: n))
            }
            #expect(try await store.eventCount(gateway: "gw-a") == 7)
            var all = EventQuery()
            all.limit = 100
            #expect(try await store.events(all).events.count == 7)
            #expect(try await store.gateways().first?.devices.count == 1)
        }
    }
}
