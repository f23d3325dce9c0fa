import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import LaneAnalytics
import LaneCollector
import LaneCore
import LaneCollectorTestSupport
import LaneTestSupport
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization
import Testing

/// A responder's HTTPS endpoint on loopback: it records each POST and answers as `answer` says
/// for the nth request (from 1).
private final class Receiver: Sendable {
    struct Post: Sendable {
        let headers: HTTPFields
        let body: [UInt8]
        let at: ContinuousClock.Instant
    }
    private let posts = Mutex<[Post]>([])
    let answer: @Sendable (Int) -> HTTPResponse.Status

    init(answer: @escaping @Sendable (Int) -> HTTPResponse.Status = { _ in .ok }) { self.answer = answer }

    var received: [Post] { posts.withLock { $0 } }

    /// The alarms received, each once: an attempt that timed out at the sender after the
    /// receiver had it (a loaded machine) is sent again, with the same id.
    var alarmIDs: Set<String> { Set(received.compactMap { $0.headers[HTTPField.Name("Lanegate-Alarm-Id")!] }) }

    fileprivate func record(_ post: Post) -> Int { posts.withLock { $0.append(post); return $0.count } }
}

/// Serves `receivers` over TLS (a certificate for 127.0.0.1, `certificate` its path) at
/// `https://127.0.0.1:PORT/<name>` while `body` runs.
private func withReceivers<T: Sendable>(_ receivers: [String: Receiver],
                                        _ body: @Sendable (_ baseURL: String, _ certificate: String) async throws -> T) async throws -> T {
    let (certificate, key) = try await selfSignedCertificate(in: temporaryDirectory())
    let router = Router()
    for (name, receiver) in receivers {
        router.post("/\(name)") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            let n = receiver.record(.init(headers: request.headers, body: Array(buffer: bytes), at: .now))
            return Response(status: receiver.answer(n))
        }
    }
    let tls = TLSConfiguration.makeServerConfiguration(
        certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
        privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
    let (bound, announce) = AsyncStream.makeStream(of: Int.self)
    let app = Application(router: router, server: try .tls(.http1(), tlsConfiguration: tls),
                          configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                          onServerRunning: { announce.yield($0.localAddress!.port!) }, logger: quietLogger)
    let group = ServiceGroup(configuration: .init(services: [app], logger: quietLogger))
    let running = Task { try await group.run() }
    var ports = bound.makeAsyncIterator()
    let port = try #require(await ports.next())
    let outcome: Result<T, any Error>
    do { outcome = .success(try await body("https://127.0.0.1:\(port)", certificate)) } catch { outcome = .failure(error) }
    await group.triggerGracefulShutdown()
    try? await running.value
    return try outcome.get()
}

private let secret = Array("a-secret-shared-with-sonora-c5".utf8)

/// Timing for tests: retries after 100 ms, the queue looked at every 100 ms.
private var quick: WebhookTiming {
    var t = WebhookTiming()
    t.firstRetry = .milliseconds(100)
    t.maxDelay = .milliseconds(400)
    t.poll = .milliseconds(100)
    t.requestTimeout = .seconds(5)
    return t
}

@Suite struct WebhookSignatureTests {
    @Test func aSignatureHoldsForItsBodySecretAndTimeOnly() {
        let body = Array("{\"id\":\"x\"}".utf8)
        let header = WebhookSignature.sign(body, secret: secret, unixSeconds: 1_800_000_000)
        // The receiver's side, from the documented form (HMAC-SHA256 of "<t>." + body), computed
        // apart: printf '1800000000.{"id":"x"}' | openssl dgst -sha256 -hmac a-secret-shared-with-sonora-c5
        #expect(header == "t=1800000000,v1=7e33272352193a68e7588f8b0d5356dc8c9ec9421bdc5014fa8cd477c2cfb5d6")
        #expect(WebhookSignature.verify(header, body: body, secret: secret, now: 1_800_000_100))
        #expect(!WebhookSignature.verify(header, body: body + [0x20], secret: secret, now: 1_800_000_100), "another body")
        #expect(!WebhookSignature.verify(header, body: body, secret: Array("another-secret-of-length".utf8), now: 1_800_000_100))
        #expect(!WebhookSignature.verify(header, body: body, secret: secret, now: 1_800_000_301), "too old: a replay")
        #expect(!WebhookSignature.verify("t=1800000000,v1=00", body: body, secret: secret, now: 1_800_000_000))
        #expect(!WebhookSignature.verify("garbage", body: body, secret: secret, now: 1_800_000_000))
    }
}

@Suite struct WebhookDeliveryTests {
    let readers = ReadTokens(readers: [
        (Reader(name: "cbp-el-paso", scope: .ports(["elpaso-nb"])), "token-of-the-el-paso-agency"),
        (Reader(name: "operations", scope: .admin), "token-of-the-operations-team"),
    ])
    let gateways = GatewayTokens(pairs: [("nogales-booths", "token-of-the-nogales-booths"), ("elpaso-exit", "token-of-the-elpaso-exit")])
    let admin = "token-of-the-operations-team"

    @Test func aSealTamperedBetweenTwoPortsIsOneTransitAndOneSignedPostToEachWebhookThatCoversIt() async throws {
        let (c5, pharrHook, operations) = (Receiver(), Receiver(), Receiver())
        try await withReceivers(["c5": c5, "pharr": pharrHook, "operations": operations]) { base, certificate in
            var settings = CollectorSettings()
            settings.webhookTiming = quick
            settings.webhooks = [
                Webhook(name: "sonora-c5", url: base + "/c5", secret: secret, scope: .ports(["nogales-nb"]), kinds: [.sealTampered],
                        caFile: certificate),
                Webhook(name: "pharr", url: base + "/pharr", secret: secret, scope: .ports(["pharr-nb"]), caFile: certificate),
                Webhook(name: "operations", url: base + "/operations", secret: Array("the-operations-secret".utf8), caFile: certificate),
            ]
            let start = ClockAnchor.now().utcNanoseconds - 6 * hour
            try await withCollector(settings: settings, gatewayTokens: gateways, ports: [nogales, elPaso, pharr],
                                    transitRoutes: [nogalesToElPaso], readAccess: .tokens(readers)) { url, collector in
                let sealed = sealBatch("nogales-booths", "lane1/seal", sequence: 1, start: start, [seen(1, at: 60, events: 3)])
                #expect(try await post(url, sealed, token: "token-of-the-nogales-booths").0 == 200)
                // At El Paso five hours on, its counter moved: opened on the road.
                let arrived = sealBatch("elpaso-exit", "exit/seal", sequence: 1, start: start, [seen(1, at: 5 * 3600, events: 4)])
                let posted = ContinuousClock.now
                #expect(try await post(url, arrived, token: "token-of-the-elpaso-exit").0 == 200)
                #expect(await eventually(30) { !c5.received.isEmpty && !operations.received.isEmpty })
                let delivery = try #require(c5.received.first)
                // Alone this takes tens of milliseconds (README); with every test at once on two
                // cores, seconds: the bound here is a guard, the figure is measured alone.
                let delay = delivery.at - posted
                #expect(delay < .seconds(20), "the webhook heard of it after \(delay)")

                // One transit, its tamper flagged.
                let (_, listed) = try await get(url + "/v1/transits", token: admin)
                let transits = try #require(jsonObject(listed)["transits"] as? [[String: Any]])
                #expect(transits.count == 1 && transits.first?["tampered"] as? Bool == true && transits.first?["state"] as? String == "arrived")

                // Signed with the webhook's own secret over "<t>." + body; the id in a header too.
                let alarm = jsonObject(String(decoding: delivery.body, as: UTF8.self))
                let id = try #require(alarm["id"] as? String)
                #expect(alarm["kind"] as? String == "seal_tampered" && alarm["ports"] as? [String] == ["nogales-nb", "elpaso-nb"])
                #expect(delivery.headers[HTTPField.Name("Lanegate-Alarm-Id")!] == id)
                #expect(delivery.headers[HTTPField.Name("Lanegate-Delivery-Attempt")!] == "1")
                #expect(delivery.headers[.contentType] == "application/json")
                let signature = try #require(delivery.headers[HTTPField.Name("Lanegate-Signature")!])
                let now = ClockAnchor.now().utcNanoseconds / 1_000_000_000
                #expect(WebhookSignature.verify(signature, body: delivery.body, secret: secret, now: now))
                #expect(!WebhookSignature.verify(signature, body: delivery.body, secret: Array("the-operations-secret".utf8), now: now))
                let opsDelivery = try #require(operations.received.first)
                #expect(WebhookSignature.verify(try #require(opsDelivery.headers[HTTPField.Name("Lanegate-Signature")!]),
                                                body: opsDelivery.body, secret: Array("the-operations-secret".utf8), now: now))

                // The same batch again raises nothing; a detector fault at El Paso goes to
                // operations (every alarm) but not to Sonora's C5 (seal alarms of Nogales only).
                #expect(try await post(url, arrived, token: "token-of-the-elpaso-exit").1.contains("duplicate"))
                let fault = sealBatch("elpaso-exit", "exit/seal", sequence: 2, start: start, [
                    .detectorFault(DetectorFault(loop: 0, kind: .maxPresence, raised: true, time: MonotonicInstant(nanoseconds: 5 * hour + 1))),
                ])
                #expect(try await post(url, fault, token: "token-of-the-elpaso-exit").0 == 200)
                #expect(await eventually(30) { operations.alarmIDs.count == 2 })
                try await Task.sleep(for: .milliseconds(500))
                #expect(c5.alarmIDs == [id] && operations.alarmIDs.count == 2 && operations.alarmIDs.contains(id))
                #expect(pharrHook.received.isEmpty, "Pharr's webhook covers no port of these alarms")
                #expect(collector.alarms.streams == 0, "the three senders are no client's alarm stream")
                let (_, done) = try await get(url + "/v1/webhooks/deliveries?state=delivered", token: admin)
                let delivered = try #require(jsonObject(done)["deliveries"] as? [[String: Any]])
                #expect(delivered.compactMap { $0["webhook"] as? String }.sorted() == ["operations", "operations", "sonora-c5"])
            }
        }
    }

    @Test func aReceiverThatFailsIsRetriedWithBackoffThenDeadLetteredAndSentAgainOnRequest() async throws {
        let mended = Atomic<Bool>(false)
        let flaky = Receiver { n in n <= 2 ? .serviceUnavailable : .ok }
        let down = Receiver { _ in mended.load(ordering: .relaxed) ? .noContent : .internalServerError }
        try await withReceivers(["flaky": flaky, "down": down]) { base, certificate in
            var settings = CollectorSettings()
            settings.webhookTiming = quick
            settings.webhooks = [
                Webhook(name: "flaky", url: base + "/flaky", secret: secret, caFile: certificate, maxAttempts: 5),
                Webhook(name: "down", url: base + "/down", secret: secret, caFile: certificate, maxAttempts: 2),
            ]
            try await withCollector(settings: settings, gatewayTokens: gateways, ports: [nogales, elPaso], readAccess: .tokens(readers)) { url, _ in
                let fault = LaneEvent.detectorFault(DetectorFault(loop: 0, kind: .noActivity, raised: true, time: MonotonicInstant(nanoseconds: 1)))
                let start = ClockAnchor.now().utcNanoseconds - hour
                #expect(try await post(url, sealBatch("nogales-booths", "lane1/seal", sequence: 1, start: start, [fault]),
                                       token: "token-of-the-nogales-booths").0 == 200)

                // 503, 503, then 200: three attempts of the one alarm, spaced by the backoff.
                #expect(await eventually(30) { flaky.received.count >= 3 })
                let attempts = flaky.received.compactMap { $0.headers[HTTPField.Name("Lanegate-Delivery-Attempt")!] }
                #expect(attempts.prefix(3) == ["1", "2", "3"], "one more only if the 200 came after the sender's timeout: \(attempts)")
                #expect(Set(flaky.received.compactMap { $0.headers[HTTPField.Name("Lanegate-Alarm-Id")!] }).count == 1)
                let gaps = zip(flaky.received.dropFirst(), flaky.received).map { $0.at - $1.at }
                #expect(gaps.allSatisfy { $0 >= .milliseconds(100) }, "retried after its backoff: \(gaps)")

                // Two failures and the delivery to `down` is a dead letter, listed for admins only.
                func dead() async throws -> [[String: Any]] {
                    let (status, body) = try await get(url + "/v1/webhooks/deliveries?state=dead", token: admin)
                    #expect(status == 200)
                    return jsonObject(body)["deliveries"] as? [[String: Any]] ?? []
                }
                #expect(try await eventually(30) { try await dead().count == 1 })
                let letter = try #require(try await dead().first)
                #expect(letter["webhook"] as? String == "down" && letter["attempts"] as? Int == 2 && letter["last_error"] as? String == "HTTP 500")
                #expect(down.received.count == 2)
                #expect(try await get(url + "/v1/webhooks/deliveries?state=dead", token: "token-of-the-el-paso-agency").0 == 403)
                #expect(try await get(url + "/v1/webhooks/deliveries?state=lost", token: admin).0 == 400)

                // Mended, and sent again on an operator's word: delivered.
                mended.store(true, ordering: .relaxed)
                #expect(try await send(url + "/v1/webhooks/no-such-hook/retry", token: admin).0 == 404)
                #expect(try await send(url + "/v1/webhooks/down/retry", token: "token-of-the-el-paso-agency").0 == 403)
                let (status, body) = try await send(url + "/v1/webhooks/down/retry", token: admin)
                #expect(status == 200 && jsonObject(body)["requeued"] as? Int == 1)
                #expect(await eventually(30) { down.received.count >= 3 })
                #expect(try await eventually(30) { try await dead().isEmpty })
                let (_, pending) = try await get(url + "/v1/webhooks/deliveries?state=pending", token: admin)
                #expect((jsonObject(pending)["deliveries"] as? [[String: Any]])?.isEmpty == true)
            }
        }
    }

    /// The collector itself, killed with SIGKILL while its receiver refuses an alarm, and
    /// started again on the same store: the alarm is delivered once the receiver is back.
    @Test func anAlarmQueuedWhenTheCollectorIsKilledIsDeliveredByTheNextOne() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: collectorTool), "build first: swift build --build-tests")
        let mended = Atomic<Bool>(false)
        let receiver = Receiver { _ in mended.load(ordering: .relaxed) ? .ok : .serviceUnavailable }
        try await withReceivers(["alarms": receiver]) { base, certificate in
            let dir = temporaryDirectory()
            let (config, secretFile, tokenFile) = (dir + "/collector.toml", dir + "/webhook.secret", dir + "/tokens")
            try "\(String(decoding: secret, as: UTF8.self))\n".write(toFile: secretFile, atomically: true, encoding: .utf8)
            try "nogales-booths token-of-the-nogales-booths\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
            try """
                [store]
                url = "sqlite:\(dir)/events.db"
                [[webhook]]
                name = "responders"
                url = "\(base)/alarms"
                secret_file = "\(secretFile)"
                ca_file = "\(certificate)"
                """.write(toFile: config, atomically: true, encoding: .utf8)
            func start() async throws -> (Process, String) {
                let port = 20_000 + Int.random(in: 0..<20_000)
                let process = try launchTool(collectorTool, ["--config", config, "--tokens", tokenFile, "--public-read", "--port", String(port)])
                let url = "http://127.0.0.1:\(port)"
                #expect(await eventually(30) { (try? await get(url + "/healthz", token: nil).0) == 200 })
                return (process, url)
            }

            var (collector, url) = try await start()
            let fault = LaneEvent.detectorFault(DetectorFault(loop: 0, kind: .erraticCounts, raised: true, time: MonotonicInstant(nanoseconds: 1)))
            let batch = sealBatch("nogales-booths", "lane1/seal", sequence: 1, start: ClockAnchor.now().utcNanoseconds - hour, [fault])
            #expect(try await post(url, batch, token: "token-of-the-nogales-booths").0 == 200)
            // Killed once the first attempt is refused and recorded so: due again 2 s on.
            #expect(await eventually(30) {
                let (_, queue) = (try? await get(url + "/v1/webhooks/deliveries?state=pending", token: nil)) ?? (0, "")
                return (jsonObject(queue)["deliveries"] as? [[String: Any]])?.first?["last_error"] as? String == "HTTP 503"
            })
            kill(collector.processIdentifier, SIGKILL)
            await collector.ended()

            mended.store(true, ordering: .relaxed)
            let refused = receiver.received.count
            (collector, url) = try await start()
            // Due again after its backoff, or after its lease (30 s) had a second attempt begun.
            #expect(await eventually(90) { receiver.received.count > refused })
            try await Task.sleep(for: .seconds(2))
            kill(collector.processIdentifier, SIGTERM)
            #expect(await collector.ended(within: .seconds(30)))
            let posts = receiver.received
            #expect(posts.count == refused + 1, "delivered once after the restart: \(posts.count - refused) posts")
            #expect(Set(posts.compactMap { $0.headers[HTTPField.Name("Lanegate-Alarm-Id")!] }).count == 1)
            let last = try #require(posts.last)
            #expect(jsonObject(String(decoding: last.body, as: UTF8.self))["kind"] as? String == "detector_fault")
            #expect(WebhookSignature.verify(try #require(last.headers[HTTPField.Name("Lanegate-Signature")!]), body: last.body, secret: secret,
                                            now: ClockAnchor.now().utcNanoseconds / 1_000_000_000))

            // A secret too short to be one stops the collector at start, and says why.
            try "short\n".write(toFile: secretFile, atomically: true, encoding: .utf8)
            let bad = try await runToolCapturing(collectorTool, ["--config", config, "--tokens", tokenFile, "--public-read", "--port", "0"],
                                                 within: .seconds(30))
            #expect(bad.status != 0 && bad.errors.contains("webhook responders: the secret in \(secretFile) needs at least 16 characters"),
                    "\(bad)")
        }
    }

    private func send(_ url: String, token: String) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response = try await HTTPClient.shared.execute(request, timeout: requestDeadline)
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }
}
