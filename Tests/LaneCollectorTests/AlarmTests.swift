import AsyncHTTPClient
import Foundation
import LaneAnalytics
import LaneCollector
import LaneCore
import LaneCollectorTestSupport
import LaneTestSupport
import LaneWire
import NIOCore
import Testing

private let rules = AlarmRules(ports: [nogales, elPaso], tracker: TransitTracker(ports: [nogales, elPaso], routes: [nogalesToElPaso]),
                               silentAfter: 600_000_000_000)

private func reading(_ gateway: String, _ point: String, at hours: Double, status: UInt8 = 0, events: UInt16 = 1) -> SealReading {
    SealReading(seal: "0e1f-00000001", place: ReadPlace(gateway: gateway, readPoint: point), utc: Int64(hours * Double(hour)),
                status: status, eventCount: events)
}

@Suite struct AlarmRulesTests {
    @Test func aSealNewlyTamperedOrOpenedWithoutApprovalRaisesOneAlarm() {
        let alarms = rules.sealAlarms([
            reading("nogales-booths", "lane1/seal", at: 1),
            reading("nogales-booths", "lane1/seal", at: 1.1, status: 0x80),  // tampered
            reading("nogales-booths", "lane1/seal", at: 1.2, status: 0xC0),  // still tampered, and a low battery
        ], now: 2 * hour, raisedUTC: 7)
        #expect(alarms.count == 1)
        #expect(alarms.first?.kind == .sealTampered && alarms.first?.ports == ["nogales-nb"] && alarms.first?.gateway == "nogales-booths")
        #expect(alarms.first?.utc == Int64(1.1 * Double(hour)))
        // Opened by an authorised reader: no alarm; opened without: one.
        #expect(rules.sealAlarms([reading("nogales-booths", "lane1/seal", at: 1, status: 0x21)], now: 2 * hour, raisedUTC: 7).isEmpty)
        #expect(rules.sealAlarms([reading("nogales-booths", "lane1/seal", at: 1, status: 0x20)], now: 2 * hour, raisedUTC: 7).count == 1)
    }

    @Test func aTransitThatArrivesWithItsCounterMovedOrLateRaisesAnAlarmNamingBothPorts() {
        let moved = rules.sealAlarms([reading("nogales-booths", "lane1/seal", at: 1, events: 3),
                                      reading("elpaso-exit", "exit/seal", at: 5, events: 4)], now: 6 * hour, raisedUTC: 7)
        #expect(moved.map(\.kind) == [.sealTampered] && moved.first?.ports == ["nogales-nb", "elpaso-nb"])

        let late = rules.sealAlarms([reading("nogales-booths", "lane1/seal", at: 1), reading("elpaso-exit", "exit/seal", at: 10)],
                                    now: 11 * hour, raisedUTC: 7)
        #expect(late.map(\.kind) == [.transitOverdue] && late.first?.utc == 9 * hour)

        // Under way past its time: the same alarm (by id) as when it then arrives late.
        let underWay = rules.sealAlarms([reading("nogales-booths", "lane1/seal", at: 1)], now: 19 * hour / 2, raisedUTC: 8)
        #expect(underWay.map(\.id) == late.map(\.id))
        #expect(rules.sealAlarms([reading("nogales-booths", "lane1/seal", at: 1)], now: 8 * hour, raisedUTC: 8).isEmpty)
    }

    @Test func theSameFactsGiveTheSameIds() {
        let facts = [reading("nogales-booths", "lane1/seal", at: 1, status: 0x80), reading("elpaso-exit", "exit/seal", at: 10, events: 9)]
        let once = rules.sealAlarms(facts, now: 20 * hour, raisedUTC: 1).map(\.id)
        let again = rules.sealAlarms(facts.reversed(), now: 30 * hour, raisedUTC: 2).map(\.id)
        #expect(once.count == 3 && once == again && Set(once).count == 3)
        #expect(once.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
    }
}

/// Reads server-sent events off a response body.
private struct EventReader {
    var body: HTTPClientResponse.Body.AsyncIterator
    var text = ""

    /// The next `event: alarm`, as its JSON, skipping comments; nil when the stream ends.
    mutating func nextAlarm() async throws -> [String: Any]? {
        while true {
            while !text.contains("\n\n") {
                guard let chunk = try await body.next() else { return nil }
                text += String(buffer: chunk)
            }
            let event = String(text[..<text.range(of: "\n\n")!.lowerBound])
            text = String(text[text.range(of: "\n\n")!.upperBound...])
            guard let data = event.split(separator: "\n").first(where: { $0.hasPrefix("data: ") }) else { continue }
            return jsonObject(String(data.dropFirst("data: ".count)))
        }
    }
}

@Suite struct AlarmDeliveryTests {
    let readers = ReadTokens(readers: [
        (Reader(name: "cbp-el-paso", scope: .ports(["elpaso-nb"])), "token-of-the-el-paso-agency"),
        (Reader(name: "cbp-pharr", scope: .ports(["pharr-nb"])), "token-of-the-pharr-agency"),
        (Reader(name: "wait-site", scope: .public), "token-of-a-public-website"),
        (Reader(name: "operations", scope: .admin), "token-of-the-operations-team"),
    ])
    let gateways = GatewayTokens(pairs: [("nogales-booths", "token-of-the-nogales-booths"), ("elpaso-exit", "token-of-the-elpaso-exit")])

    private func stream(_ url: String, token: String, lastEventID: String? = nil) async throws -> EventReader {
        var request = HTTPClientRequest(url: url + "/v1/alarms/stream")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        #expect(response.status.code == 200 && response.headers["Content-Type"].first == "text/event-stream")
        return EventReader(body: response.body.makeAsyncIterator())
    }

    @Test func aSealTamperedBetweenPortsReachesTheAgencysStreamWithinTwoSecondsOfItsBatch() async throws {
        let start = ClockAnchor.now().utcNanoseconds - 6 * hour
        try await withCollector(gatewayTokens: gateways, ports: [nogales, elPaso, pharr], transitRoutes: [nogalesToElPaso],
                                readAccess: .tokens(readers)) { url, _ in
            // Sealed and counted at Nogales; the stream opens before the shipment reaches El Paso.
            let sealed = sealBatch("nogales-booths", "lane1/seal", sequence: 1, start: start, [seen(1, at: 60, events: 3)])
            #expect(try await post(url, sealed, token: "token-of-the-nogales-booths").0 == 200)
            var agency = try await stream(url, token: "token-of-the-el-paso-agency")
            try await Task.sleep(for: .milliseconds(200))

            // At El Paso, sealed again but with its counter moved: opened on the road.
            let arrived = sealBatch("elpaso-exit", "exit/seal", sequence: 1, start: start, [seen(1, at: 5 * 3600, events: 4)])
            let posted = ContinuousClock.now
            #expect(try await post(url, arrived, token: "token-of-the-elpaso-exit").0 == 200)
            let alarm = try #require(try await agency.nextAlarm())
            // Raised within the batch's own request, not by a sweep (none runs here) nor found by a
            // stream's poll of another collector's alarms. Alone this takes 11-14 ms (README); with
            // every test at once on two cores it has taken 4 s, so the bound here is a guard.
            let delay = ContinuousClock.now - posted
            #expect(delay < .seconds(20), "the alarm took \(delay)")
            #expect(alarm["kind"] as? String == "seal_tampered" && alarm["ports"] as? [String] == ["nogales-nb", "elpaso-nb"])
            #expect((alarm["detail"] as? String)?.contains("1 seal event(s)") == true)
            let id = try #require(alarm["id"] as? String)

            // The same batch again is a duplicate: no second alarm. A detector fault at El Paso is one.
            #expect(try await post(url, arrived, token: "token-of-the-elpaso-exit").1.contains("duplicate"))
            let fault = sealBatch("elpaso-exit", "exit/seal", sequence: 2, start: start, [
                .detectorFault(DetectorFault(loop: 0, kind: .maxPresence, raised: true, time: MonotonicInstant(nanoseconds: 5 * hour + 1))),
                .detectorFault(DetectorFault(loop: 0, kind: .maxPresence, raised: false, time: MonotonicInstant(nanoseconds: 5 * hour + 2))),
            ])
            #expect(try await post(url, fault, token: "token-of-the-elpaso-exit").0 == 200)
            let second = try #require(try await agency.nextAlarm())
            #expect(second["kind"] as? String == "detector_fault" && (second["detail"] as? String)?.contains("lane1/loop-a") == true)

            // Pharr's agency hears of neither, even asking for everything since 1970: what it heard
            // in 3 s (the reading task is cancelled then).
            let heardByPharr = try await withThrowingTaskGroup(of: [String].self) { group in
                group.addTask {
                    var kinds: [String] = []
                    var elsewhere = try await stream(url, token: "token-of-the-pharr-agency", lastEventID: "0")
                    do { while let other = try await elsewhere.nextAlarm() { kinds.append(other["kind"] as? String ?? "?") } } catch {}
                    return kinds
                }
                try await Task.sleep(for: .seconds(3))
                group.cancelAll()
                return try await group.next() ?? []
            }
            #expect(heardByPharr.isEmpty)
            var replayed = try await stream(url, token: "token-of-the-el-paso-agency", lastEventID: "0")
            #expect(try await replayed.nextAlarm()?["id"] as? String == id, "the same stream, from 1970, replays what it may see")

            // Listed, acknowledged once (the first acknowledgement stays), refused outside the scope.
            let admin = "token-of-the-operations-team"
            let (_, list) = try await get(url + "/v1/alarms", token: admin)
            #expect((jsonObject(list)["alarms"] as? [[String: Any]])?.count == 2)
            let (_, open) = try await get(url + "/v1/alarms?state=open&kind=seal_tampered", token: "token-of-the-el-paso-agency")
            #expect((jsonObject(open)["alarms"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
            #expect(try await ack(url, id, "token-of-the-pharr-agency").0 == 404)
            let (status, acked) = try await ack(url, id, "token-of-the-el-paso-agency")
            #expect(status == 200 && jsonObject(acked)["acknowledged_by"] as? String == "cbp-el-paso")
            #expect(jsonObject(try await ack(url, id, admin).1)["acknowledged_by"] as? String == "cbp-el-paso")
            let (_, stillOpen) = try await get(url + "/v1/alarms?state=open", token: admin)
            #expect((jsonObject(stillOpen)["alarms"] as? [[String: Any]])?.count == 1)
            #expect(try await ack(url, "0123456789abcdef0123456789abcdef", admin).0 == 404)
            #expect(try await get(url + "/v1/alarms", token: "token-of-a-public-website").0 == 403)
            #expect(try await get(url + "/v1/alarms/stream", token: "token-of-a-public-website").0 == 403)
            #expect(try await get(url + "/v1/alarms", token: nil).0 == 401)
            for bad in ["?state=closed", "?kind=fire", "?limit=0", "?limit=10001", "?from=9&to=3"] {
                #expect(try await get(url + "/v1/alarms" + bad, token: admin).0 == 400, "\(bad)")
            }
        }
    }

    @Test func aStreamThatReconnectsGetsWhatItMissedAndTheSweepFindsSilentGateways() async throws {
        try await withCollector(gatewayTokens: gateways, ports: [nogales, elPaso], readAccess: .tokens(readers)) { url, collector in
            let admin = "token-of-the-operations-team"
            let now = ClockAnchor.now().utcNanoseconds
            #expect(try await post(url, sealBatch("nogales-booths", "lane1/seal", sequence: 1, start: now, []), token: "token-of-the-nogales-booths").0 == 200)
            // An hour on, the gateway has been silent for longer than 10 minutes: one alarm, however often the sweep looks.
            await collector.alarms.sweep(now: now + hour)
            await collector.alarms.sweep(now: now + hour + 1)
            let (_, list) = try await get(url + "/v1/alarms?to=\(now + 2 * hour)", token: admin)
            let alarms = try #require(jsonObject(list)["alarms"] as? [[String: Any]])
            #expect(alarms.count == 1 && alarms.first?["kind"] as? String == "gateway_silent" && alarms.first?["gateway"] as? String == "nogales-booths")

            // Reconnecting with the last id it saw, a client gets what was raised after it.
            let raised = try #require(alarms.first?["raised_utc_ns"] as? Int64)
            var request = HTTPClientRequest(url: url + "/v1/alarms/stream")
            request.headers.add(name: "Authorization", value: "Bearer \(admin)")
            request.headers.add(name: "Last-Event-ID", value: String(raised - 1))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            var reader = EventReader(body: response.body.makeAsyncIterator())
            #expect(try await reader.nextAlarm()?["kind"] as? String == "gateway_silent")
        }
    }

    private func ack(_ url: String, _ id: String, _ token: String) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url + "/v1/alarms/\(id)/ack")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response = try await HTTPClient.shared.execute(request, timeout: requestDeadline)
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }
}
