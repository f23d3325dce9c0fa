import Foundation
import LaneCollector
import LaneCore
import LaneWire
import Testing
import LaneCollectorTestSupport
import LaneTestSupport

/// Several batches in one request: each gets the answer it would have had alone, and is stored
/// exactly once.
@Suite("Bundles at the collector")
struct BundleTests {
    struct Answer: Decodable {
        struct Result: Decodable, Equatable {
            var sequence: UInt64?
            var status: String
            var code: Int?
        }
        var gateway: String
        var results: [Result]
    }

    func postBundle(_ url: String, _ bodies: [[UInt8]], token: String? = tokenA) async throws -> (Int, String) {
        try await post(url, BatchBundle.encode(bodies), token: token, encoding: nil, contentType: BatchBundle.contentType)
    }

    @Test func eachBatchOfABundleGetsItsOwnAnswer() async throws {
        try await withCollector { url, collector in
            #expect(try await post(url, encodedBatch(gateway: "gw-a", sequence: 2), token: tokenA).0 == 200)
            let (status, text) = try await postBundle(url, [
                encodedBatch(gateway: "gw-a", sequence: 1),
                encodedBatch(gateway: "gw-a", sequence: 2),            // as stored: a duplicate
                encodedBatch(gateway: "gw-a", sequence: 3),
                encodedBatch(gateway: "gw-a", sequence: 2, count: 3),  // other content: a conflict
                [0x28, 0xB5, 0x2F, 0xFD, 0x00],                        // not a batch
                encodedBatch(gateway: "gw-b", sequence: 4),            // another gateway's
                encodedBatch(gateway: "gw-a", sequence: 3),            // twice in one bundle
            ])
            #expect(status == 200, "\(text)")
            let answer = try JSONDecoder().decode(Answer.self, from: Data(text.utf8))
            #expect(answer.gateway == "gw-a")
            #expect(Array(answer.results.prefix(6)) == [
                .init(sequence: 1, status: "stored"), .init(sequence: 2, status: "duplicate"), .init(sequence: 3, status: "stored"),
                .init(sequence: 2, status: "refused", code: 409), .init(status: "refused", code: 400),
                .init(sequence: 4, status: "refused", code: 403),
            ])
            // Stored by one entry and acknowledged as a duplicate for the other, in either order.
            #expect(answer.results.count == 7 && answer.results[6].sequence == 3 && answer.results[6].code == nil)
            #expect(Set([answer.results[2].status, answer.results[6].status]) == ["stored", "duplicate"])
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 15)
            #expect(try await collector.store.eventCount(gateway: "gw-b") == 0)
            let metrics = try await get(url + "/metrics").1
            #expect(metrics.contains("lanegate_collector_bundles_received_total 1"))
            #expect(metrics.contains(#"lanegate_collector_batches_rejected_total{status="409",reason="conflict"} 1"#))
        }
    }

    /// A bundle that cannot be read whole stores nothing; one that claims compression is refused
    /// before it is read, as is one without a token.
    @Test func aBundleIsReadWholeOrNotAtAll() async throws {
        try await withCollector { url, collector in
            let bundle = BatchBundle.encode([encodedBatch(gateway: "gw-a", sequence: 1), encodedBatch(gateway: "gw-a", sequence: 2)])
            let cut = try await post(url, Array(bundle.dropLast()), token: tokenA, encoding: nil, contentType: BatchBundle.contentType)
            #expect(cut.0 == 400 && cut.1.contains("bundle entry 1"), "\(cut)")
            #expect(try await post(url, bundle, token: tokenA, encoding: "zstd", contentType: BatchBundle.contentType).0 == 415)
            #expect(try await post(url, bundle, token: nil, encoding: nil, contentType: BatchBundle.contentType).0 == 401)
            let tooMany = BatchBundle.encode(Array(repeating: [0x00], count: BatchBundle.maxEntries + 1))
            #expect(try await post(url, tooMany, token: tokenA, encoding: nil, contentType: BatchBundle.contentType).0 == 400)
            #expect(try await collector.store.eventCount(gateway: nil) == 0)
            #expect(try await postBundle(url, []).0 == 200)
            #expect(try await postBundle(url, BatchBundle.entries(bundle).map(Array.init)).0 == 200)
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 10)
        }
    }
}
