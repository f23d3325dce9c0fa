import Foundation
import LaneCollector
import LaneCore
import LaneSpool
@testable import LaneUplink
import LaneWire
import NIOSSL
import Testing
import LaneCollectorTestSupport
import LaneTestSupport

@Suite("Uplink to a real collector", .serialized)
struct UplinkTests {
    func spool(with batches: Int, gateway: String = "gw-a", priorityEvery: Int = 0, dictionary: Bool = false) -> Spool {
        let spool = Spool(path: temporaryDirectory() + "/spool.db", gatewayID: gateway,
                          settings: SpoolSettings(minFreeDiskBytes: 0), nowUTC: 0)
        for i in 0..<batches {
            let sequence = spool.nextSequence
            let priority = priorityEvery > 0 && i % priorityEvery == 0
            spool.commit(SpooledBatch(sequence: sequence, priority: priority, events: 5, createdUTC: 0,
                                      body: encodedBatch(gateway: gateway, sequence: sequence, priority: priority, dictionary: dictionary)))
        }
        return spool
    }

    func settings(_ url: String, token: String = tokenA) -> UplinkSettings {
        UplinkSettings(url: url + "/v1/batches", token: token, allowPlainHTTP: true, requestTimeout: .seconds(2),
                       backoffBase: .milliseconds(20), backoffCap: .milliseconds(200), pollInterval: .milliseconds(20))
    }

    /// Runs the uplink until `done` holds (or 30 s pass), then stops it.
    func run(_ uplink: Uplink, until done: @escaping @Sendable () throws -> Bool) async throws -> Bool {
        let task = Task { await uplink.run() }
        let held = try await eventually(30, done)
        task.cancel()
        await task.value
        try await uplink.shutdown()
        return held
    }

    @Test func theSpoolDrainsIntoTheCollectorExactlyOnce() async throws {
        let spool = spool(with: 60, priorityEvery: 7)
        try await withCollector { url, collector in
            let uplink = try Uplink(spool: AsyncSpool(spool), settings: settings(url))
            #expect(try await run(uplink) { spool.status().batches == 0 })
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 300)
            #expect(uplink.statistics.acknowledged == 60 && uplink.statistics.rejected == 0)
        }
    }

    /// A backlog goes in bundles, each batch acknowledged on its own: one that conflicts with
    /// what the collector holds becomes a dead letter, and the rest of its bundle is stored.
    @Test func aBacklogDrainsInBundlesAndARefusedBatchStaysAlone() async throws {
        let spool = spool(with: 200)
        try await withCollector { url, collector in
            #expect(try await post(url, encodedBatch(gateway: "gw-a", sequence: 50, count: 2), token: tokenA).0 == 200)
            let uplink = try Uplink(spool: AsyncSpool(spool), settings: settings(url))
            #expect(try await run(uplink) { spool.status().batches == 0 })
            #expect(spool.status().deadLetters == 1 && uplink.statistics.acknowledged == 199)
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 199 * 5 + 2)
            let metrics = String(decoding: collector.metrics.registry.emitToBuffer(), as: UTF8.self)
            let bundles = metrics.split(separator: "\n").first { $0.hasPrefix("lanegate_collector_bundles_received_total ") }
            let count = bundles.flatMap { Int($0.split(separator: " ").last!) } ?? 0
            #expect(count >= 1 && count <= 200 / 16, "200 batches in \(count) bundles")
        }
    }

    /// A collector that predates bundles refuses one with 415: the uplink sends one batch per
    /// request instead, and nothing becomes a dead letter.
    @Test func aCollectorThatPredatesBundlesGetsOneBatchPerRequest() async throws {
        let spool = spool(with: 40)
        try await withCollector(predatesBundles: true) { url, collector in
            let uplink = try Uplink(spool: AsyncSpool(spool), settings: settings(url))
            #expect(try await run(uplink) { spool.status().batches == 0 })
            #expect(spool.status().deadLetters == 0 && uplink.statistics.acknowledged == 40)
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 200)
        }
    }

    /// A collector's answer announces the dictionary; from then on the gateway's encoder uses it,
    /// and what it encodes is stored like any batch.
    @Test func aCollectorThatAnnouncesTheDictionaryGetsBatchesCompressedWithIt() async throws {
        let spool = spool(with: 10)
        try await withCollector { url, collector in
            let use = DictionaryUse(policy: .auto)
            var settings = settings(url)
            settings.dictionaryUse = use
            let uplink = try Uplink(spool: AsyncSpool(spool), settings: settings)
            #expect(use.dictionary == nil)
            #expect(try await run(uplink) { spool.status().batches == 0 })
            #expect(use.dictionary?.id == ZstdDictionary.current.id)
            let compressed = self.spool(with: 10, gateway: "gw-b", dictionary: true)
            var second = self.settings(url, token: tokenB)
            second.dictionaryUse = use
            let next = try Uplink(spool: AsyncSpool(compressed), settings: second)
            #expect(try await run(next) { compressed.status().batches == 0 })
            #expect(compressed.status().deadLetters == 0 && next.statistics.acknowledged == 10)
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 50)
            #expect(try await collector.store.eventCount(gateway: "gw-b") == 50)
        }
    }

    /// Batches spooled with the dictionary meet a collector older than it (after a failover, or
    /// a collector rolled back): each refused as unreadable goes again at once without it, every
    /// one is stored once, and the batches still to come go without.
    @Test func aCollectorOlderThanTheDictionaryGetsEveryBatchOnceWithout() async throws {
        let spool = spool(with: 30, dictionary: true)
        try await withCollector(predatesDictionaries: true) { url, collector in
            let use = DictionaryUse(policy: .auto)
            use.collectorAnswered(announcing: String(ZstdDictionary.current.id))
            var settings = settings(url)
            settings.dictionaryUse = use
            let uplink = try Uplink(spool: AsyncSpool(spool), settings: settings)
            #expect(try await run(uplink) { spool.status().batches == 0 })
            #expect(spool.status().deadLetters == 0 && uplink.statistics.acknowledged == 30)
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 150)
            #expect(use.dictionary == nil)
        }
    }

    /// A collector stored half the batches without the dictionary (before an upgrade; the
    /// gateway never heard its answers). The same batches spooled with it, sent in a bundle, are
    /// refused as other content, go again without it, and are duplicates, not dead letters.
    @Test func batchesStoredWithoutTheDictionaryAreDuplicatesWithIt() async throws {
        let spool = spool(with: 20, dictionary: true)
        try await withCollector { url, collector in
            for sequence in UInt64(1)...10 {
                #expect(try await post(url, encodedBatch(gateway: "gw-a", sequence: sequence), token: tokenA).0 == 200)
            }
            let uplink = try Uplink(spool: AsyncSpool(spool), settings: settings(url))
            #expect(try await run(uplink) { spool.status().batches == 0 })
            #expect(spool.status().deadLetters == 0 && uplink.statistics.acknowledged == 20)
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 100)
        }
    }

    /// The first collector answers every batch 503 (its database is down): the uplink moves on
    /// to the next URL and delivers everything there, once.
    @Test func aFailingCollectorIsFailedOverToTheNext() async throws {
        let spool = spool(with: 30)
        var impostor: Impostor?
        var port: UInt16 = 0
        for _ in 0..<20 where impostor == nil {
            port = UInt16.random(in: 21_000...39_000)
            impostor = Impostor(port: port, hangs: false)
        }
        let failing = try #require(impostor)
        let failingPort = port
        defer { failing.stop() }
        try await withCollector { url, collector in
            var s = settings("http://127.0.0.1:\(failingPort)")
            s.fallbackURLs = [url + "/v1/batches"]
            let uplink = try Uplink(spool: AsyncSpool(spool), settings: s)
            #expect(try await run(uplink) { spool.status().batches == 0 })
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 150)
            #expect(uplink.currentURL == url + "/v1/batches")
            #expect(uplink.statistics.acknowledged == 30)
        }
    }

    /// A backlog drains under a byte-rate cap in the background; a batch committed meanwhile is
    /// sent at once, and a priority batch goes ahead of the backlog.
    @Test func liveBatchesOvertakeAPacedBacklog() async throws {
        let spool = spool(with: 40)
        try await withCollector { url, collector in
            var s = settings(url)
            s.concurrency = 1
            s.backlogBytesPerSecond = 2_000  // about 5 backlog batches a second
            let uplink = try Uplink(spool: AsyncSpool(spool), settings: s)
            let task = Task { await uplink.run() }
            #expect(await eventually(5) { (try? await collector.store.eventCount(gateway: "gw-a")) ?? 0 > 0 })
            let live = spool.nextSequence
            spool.commit(SpooledBatch(sequence: live, priority: false, events: 5, createdUTC: 0,
                                      body: encodedBatch(gateway: "gw-a", sequence: live)))
            #expect(await eventually(5) { !spool.batches(after: live - 1, limit: 1).contains { $0.sequence == live } })
            #expect(spool.status().batches > 20, "the live batch did not wait for the backlog")
            task.cancel()
            await task.value
            try await uplink.shutdown()
        }
    }

    @Test func aRefusedBatchBecomesADeadLetterAndTheRestFlow() async throws {
        let spool = spool(with: 3)
        // gw-b's token: every batch of gw-a is refused as an impostor (403), never retried.
        try await withCollector { url, collector in
            let uplink = try Uplink(spool: AsyncSpool(spool), settings: settings(url, token: tokenB))
            #expect(try await run(uplink) { spool.status().deadLetters == 3 })
            #expect(spool.status().batches == 0 && uplink.statistics.retries == 0)
            #expect(try await collector.store.eventCount(gateway: nil) == 0)
        }
    }

    @Test func batchesWaitOutACollectorThatIsDownAndArriveWhenItComesBack() async throws {
        let spool = spool(with: 20)
        let database = temporaryDirectory() + "/events.db"
        // Learn a free port from a first run, then leave it closed.
        let port = try await withCollector { url, _ in Int(url.split(separator: ":").last!)! }
        let uplink = try Uplink(spool: AsyncSpool(spool), settings: settings("http://127.0.0.1:\(port)"))
        let task = Task { await uplink.run() }
        #expect(await eventually(10) { uplink.statistics.retries >= 3 }, "the collector is down: retries, backing off")
        #expect(spool.status().batches == 20, "nothing is lost while it is down")
        try await withCollector(store: try SQLiteEventStore(path: database), port: port) { _, collector async throws in
            #expect(await eventually(30) { spool.status().batches == 0 })
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 100)
        }
        task.cancel()
        await task.value
        try await uplink.shutdown()
    }

    @Test func overTLSTheCollectorsCertificateIsChecked() async throws {
        let directory = temporaryDirectory()
        let (cert, key) = try await selfSignedCertificate(in: directory)
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        let spool = spool(with: 4)
        try await withCollector(tls: tls) { url, collector in
            // Without the CA bundle the certificate is not trusted: retries, nothing sent.
            let untrusting = try Uplink(spool: AsyncSpool(spool), settings: UplinkSettings(url: url + "/v1/batches", token: tokenA,
                requestTimeout: .seconds(2), backoffBase: .milliseconds(20), backoffCap: .milliseconds(100), pollInterval: .milliseconds(20)))
            #expect(try await run(untrusting) { untrusting.statistics.retries >= 2 })
            #expect(try await collector.store.eventCount(gateway: nil) == 0)

            let trusting = try Uplink(spool: AsyncSpool(spool), settings: UplinkSettings(url: url + "/v1/batches", token: tokenA, caBundle: cert,
                requestTimeout: .seconds(2), backoffBase: .milliseconds(20), backoffCap: .milliseconds(100), pollInterval: .milliseconds(20)))
            #expect(try await run(trusting) { spool.status().batches == 0 })
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 20)
        }
    }

    /// Only a collector's acknowledgement of this very batch counts: not a page that happens to
    /// contain `"sequence":7,`, nor another batch's acknowledgement.
    @Test func anAcknowledgementIsParsedNotSearchedFor() {
        let ok = #"{"gateway":"gw-a","sequence":7,"status":"stored","events":5}"#
        #expect(Uplink.outcome(status: 200, answer: ok, sequence: 7) == .acknowledged)
        #expect(Uplink.outcome(status: 200, answer: ok.replacingOccurrences(of: "stored", with: "duplicate"), sequence: 7) == .acknowledged)
        for fake in [#"<html>"sequence":7, welcome</html>"#, #"{"sequence":70,"status":"stored"}"#,
                     #"{"note":""sequence":7,","sequence":8,"status":"stored"}"#, #"{"sequence":7,"status":"queued"}"#] {
            #expect(Uplink.outcome(status: 200, answer: fake, sequence: 7) != .acknowledged, "\(fake)")
        }
    }

    /// A bundle's answer counts only as one result per batch, in order, each for that batch.
    @Test func aBundlesAnswerIsTakenBatchByBatch() {
        let batches = (UInt64(1)...3).map { SpooledBatch(sequence: $0, priority: false, events: 1, createdUTC: 0, body: []) }
        let answer = #"{"gateway":"gw-a","results":[{"gateway":"gw-a","sequence":1,"status":"stored","events":1},"#
            + #"{"sequence":2,"status":"refused","code":409,"error":"other content"},{"status":"unavailable","error":"db down"}]}"#
        #expect(Uplink.outcomes(bundleAnswer: answer, for: batches) == [
            .acknowledged, .rejected(status: 409, reason: "other content"), .retry(reason: "db down")])
        let retryAll = { (text: String) in Uplink.outcomes(bundleAnswer: text, for: batches).allSatisfy { if case .retry = $0 { true } else { false } } }
        #expect(retryAll(#"{"results":[{"sequence":1,"status":"stored"}]}"#), "too few results")
        #expect(retryAll("<html>busy</html>"))
        let misplaced = #"{"results":[{"sequence":2,"status":"stored"},{"sequence":1,"status":"duplicate"},{"status":"refused","code":503}]}"#
        #expect(retryAll(misplaced), "acknowledgements of other batches, and a refusal that is not for good")
    }

    @Test func plainHTTPIsRefusedUnlessAllowed() {
        #expect(throws: UplinkSetupError.self) {
            _ = try Uplink(spool: AsyncSpool(spool(with: 0)), settings: UplinkSettings(url: "http://127.0.0.1:1/v1/batches"))
        }
    }

    @Test func retryDelaysUseFullJitterUnderTheCap() async throws {
        let uplink = try Uplink(spool: AsyncSpool(spool(with: 0)), settings: UplinkSettings(
            url: "https://127.0.0.1:1/v1/batches", backoffBase: .milliseconds(100), backoffCap: .seconds(2)))
        let delays = (0..<200).map { _ in uplink.backoff(after: 10) }
        #expect(delays.allSatisfy { $0 >= .zero && $0 <= .seconds(2) })
        #expect(Set(delays).count > 50, "jittered, not in step")
        #expect((0..<200).map { _ in uplink.backoff(after: 1) }.allSatisfy { $0 <= .milliseconds(100) })
        try await uplink.shutdown()
    }

    @Test func latencyQuantilesAreWithinAQuarter() {
        var h = LatencyHistogram()
        #expect(h.quantile(0.99) == nil)
        for ms in 1...100 { h.record(.milliseconds(ms)) }
        let p50 = h.quantile(0.5)!, p99 = h.quantile(0.99)!
        #expect(p50 >= .milliseconds(50) && p50 <= .milliseconds(63), "\(p50)")
        #expect(p99 >= .milliseconds(99) && p99 <= .milliseconds(124), "\(p99)")
        h.record(.seconds(3600))
        #expect(h.count == 101 && h.quantile(1)! > .seconds(60), "an absurd latency lands in the last bucket")
    }
}
