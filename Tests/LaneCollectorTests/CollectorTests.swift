import Foundation
import LaneCollector
import LaneWire
import Testing
import LaneCollectorTestSupport
import LaneTestSupport

@Suite("Collector")
struct CollectorTests {
    @Test func aBatchIsStoredOnceAndARepeatIsAcknowledgedTheSameWay() async throws {
        try await withCollector { url, collector in
            let body = encodedBatch(gateway: "gw-a", sequence: 7, count: 5)
            let first = try await post(url, body, token: tokenA)
            #expect(first.0 == 200 && first.1.contains("\"sequence\":7,") && first.1.contains("\"status\":\"stored\""))
            let again = try await post(url, body, token: tokenA)
            #expect(again.0 == 200 && again.1.contains("\"sequence\":7,") && again.1.contains("\"status\":\"duplicate\""))
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 5)

            let (status, events) = try await get(url + "/v1/events?gateway=gw-a&type=vehicle")
            #expect(status == 200)
            #expect(events.components(separatedBy: "\"type\":\"vehicle\"").count - 1 == 2)
            #expect(events.contains("\"loop\":\"lane1/loop-a\"") && events.contains("\"utc_ns\":1763900421000000000"))
            let (_, gateways) = try await get(url + "/v1/gateways")
            #expect(gateways.contains("\"id\":\"gw-a\"") && gateways.contains("\"last_sequence\":7")
                    && gateways.contains("\"sync\":\"synchronized\""))
        }
    }

    /// Paging with the cursor returns every event once, in order; filters narrow by kind and time.
    @Test func eventsPageThroughTheCursorAndFilter() async throws {
        try await withCollector { url, _ in
            for sequence in UInt64(1)...4 {
                #expect(try await post(url, encodedBatch(gateway: "gw-a", sequence: sequence, count: 5), token: tokenA).0 == 200)
            }
            var after: Int64 = 0, seen: [String] = []
            for _ in 0..<20 {
                let (_, page) = try await get(url + "/v1/events?gateway=gw-a&limit=3&after=\(after)")
                let object = try JSONSerialization.jsonObject(with: Data(page.utf8)) as! [String: Any]
                let events = object["events"] as! [[String: Any]]
                seen += events.map { "\($0["sequence"]!)/\($0["time_ns"]!)" }
                after = (object["next_after"] as! NSNumber).int64Value
                if events.isEmpty { break }
            }
            #expect(seen.count == 20 && Set(seen).count == 20, "every event once: \(seen)")
            // Batch 2's events sit at 120 s … 124 s after the anchor: ask for 121 s up to 123 s.
            let from = 1_763_900_121_000_000_000, to = 1_763_900_123_000_000_000
            let (_, window) = try await get(url + "/v1/events?from=\(from)&to=\(to)")
            #expect(window.components(separatedBy: "\"sequence\":2,").count - 1 == 2, "\(window)")
            let (_, arrivals) = try await get(url + "/v1/events?type=tag_arrived&lane=lane1")
            #expect(arrivals.components(separatedBy: "\"type\":\"tag_arrived\"").count - 1 == 12)
        }
    }

    /// Concurrent duplicates (a retry racing the original) still store the events once.
    @Test func concurrentDuplicatesStoreOnce() async throws {
        try await withCollector { url, collector in
            let body = encodedBatch(gateway: "gw-b", sequence: 1, count: 9)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 { group.addTask { try await post(url, body, token: tokenB).0 } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 8))
            #expect(try await collector.store.eventCount(gateway: "gw-b") == 9)
        }
    }

    @Test func hostileRequestsGetAReasonAndStoreNothing() async throws {
        var settings = CollectorSettings()
        settings.maxBodyBytes = 64 << 10
        try await withCollector(settings: settings) { url, collector in
            let good = encodedBatch(gateway: "gw-a", sequence: 1)
            #expect(try await post(url, good, token: nil).0 == 401)
            #expect(try await post(url, good, token: "not-a-real-token-at-all").0 == 401)
            let impostor = try await post(url, good, token: tokenB)
            #expect(impostor.0 == 403 && impostor.1.contains("claims \\\"gw-a\\\""), "\(impostor.1)")
            #expect(try await post(url, good, token: tokenA, encoding: nil).0 == 415)
            let garbage = try await post(url, Array("definitely not zstd".utf8), token: tokenA)
            #expect(garbage.0 == 400 && garbage.1.contains("zstd"))
            let notABatch = try await post(url, Zstd.compress([0x0A, 0xFF, 0xFF, 0x01]), token: tokenA)
            #expect(notABatch.0 == 400 && notABatch.1.contains("not a lanegate.v1.Batch"))
            let bomb = Zstd.compress([UInt8](repeating: 0, count: 64 << 20), level: 19)
            let bombed = try await post(url, bomb, token: tokenA)
            #expect(bombed.0 == 400 && bombed.1.contains("limit"), "\(bombed.1)")
            let oversized = try await post(url, [UInt8](repeating: 7, count: 200 << 10), token: tokenA)
            #expect(oversized.0 == 413)
            #expect(try await collector.store.eventCount(gateway: nil) == 0)

            // A sequence reused with other content is a conflict, not a silent duplicate.
            #expect(try await post(url, good, token: tokenA).0 == 200)
            let reused = try await post(url, encodedBatch(gateway: "gw-a", sequence: 1, count: 2), token: tokenA)
            #expect(reused.0 == 409)
            #expect(try await collector.store.eventCount(gateway: nil) == 5)
            #expect(try await get(url + "/healthz").0 == 200, "the server keeps serving")
            let (_, metrics) = try await get(url + "/metrics")
            #expect(metrics.contains("lanegate_collector_batches_rejected_total{status=\"401\",reason=\"auth\"} 2"), "\(metrics)")
        }
    }
}
