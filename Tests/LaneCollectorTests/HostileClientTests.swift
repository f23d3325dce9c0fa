import Foundation
import LaneCollector
import LaneCore
import LaneWire
import Testing
import LaneCollectorTestSupport
import LaneTestSupport
import LaneHTTPGuard

/// What an attacker holding a valid gateway token, or none at all, can throw at the collector:
/// each gets a 4xx with its reason, the collector stays up, and honest batches still land.
@Suite("Hostile clients")
struct HostileClientTests {
    /// A sequence beyond Int64 used to trap the store and crash-loop the collector.
    @Test func aSequenceBeyondSigned64BitsIsRefusedAndTheCollectorStaysUp() async throws {
        try await withCollector { url, collector in
            let journaled = BatchEncoder(gatewayID: "gw-a", layout: layout).journaled(
                EventBatch(sequence: 0, events: [], counters: nil, anchor: anchor, priority: false))
            for sequence in [UInt64(1) << 63, .max] {
                let body = try BatchEncoder.sequenced(journaled: journaled, sequence: sequence)
                let (status, answer) = try await post(url, body, token: tokenA)
                #expect(status == 400 && answer.contains("sequence must be 1 to 9223372036854775807"), "\(status) \(answer)")
            }
            #expect(try await get(url + "/healthz").0 == 200)
            #expect(try await post(url, encodedBatch(gateway: "gw-a", sequence: 1), token: tokenA).0 == 200)
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 5)
        }
    }

    /// Event ids are the batch's row × 65536 + index: a larger batch is refused rather than
    /// stored with ids that collide, and the largest allowed one pages back whole.
    @Test func batchesBeyondTheIdSpaceAreRefusedAndTheLargestPagesBackWhole() async throws {
        var settings = CollectorSettings()
        settings.maxBodyBytes = 16 << 20
        try await withCollector(settings: settings) { url, collector in
            let over = await offThePool { encodedBatch(gateway: "gw-a", sequence: 1, count: DecodingLimits.eventsPerBatch + 1) }
            let (refused, reason) = try await post(url, over, token: tokenA)
            #expect(refused == 400 && reason.contains("65536 events exceed the limit of 65535"), "\(refused) \(reason)")

            let full = await offThePool { encodedBatch(gateway: "gw-a", sequence: 2, count: DecodingLimits.eventsPerBatch) }
            #expect(try await post(url, full, token: tokenA).0 == 200)
            #expect(try await post(url, encodedBatch(gateway: "gw-a", sequence: 3, count: 3), token: tokenA).0 == 200)
            var after: Int64 = 0, ids = Set<Int64>(), pages = 0
            while pages < 20 {
                pages += 1
                let page = try await eventsPage(url + "/v1/events?gateway=gw-a&limit=10000&after=\(after)")
                ids.formUnion(page.ids)
                if page.ids.isEmpty { break }
                after = page.next
            }
            #expect(ids.count == DecodingLimits.eventsPerBatch + 3)
            #expect(try await collector.store.eventCount(gateway: "gw-a") == DecodingLimits.eventsPerBatch + 3)
        }
    }

    /// `limit=0` and `limit=-1` used to mean "everything": 443 MB answers.
    @Test func queriesAreBoundedInPageSizeAndInWork() async throws {
        var settings = CollectorSettings()
        settings.maxEventsPerQuery = 50
        settings.maxEventsScannedPerQuery = 30
        try await withCollector(settings: settings) { url, _ in
            for sequence in UInt64(1)...4 {
                #expect(try await post(url, encodedBatch(gateway: "gw-a", sequence: sequence, count: 20), token: tokenA).0 == 200)
            }
            for limit in ["0", "-1", "-9223372036854775808"] {
                let (status, answer) = try await get(url + "/v1/events?limit=\(limit)")
                #expect(status == 400 && answer.contains("limit must be 1 to 50"), "limit=\(limit): \(status) \(answer)")
            }
            #expect(try await get(url + "/v1/events?limit=99999999999999999999").0 == 400)
            // A page stops at 30 events examined, however large the limit; the cursor goes on.
            let first = try await eventsPage(url + "/v1/events?limit=1000000")
            #expect(first.ids.count == 30)
            // A filter that matches nothing still moves the cursor, 30 events a request.
            var after: Int64 = 0, requests = 0
            while requests < 10 {
                requests += 1
                let page = try await eventsPage(url + "/v1/events?type=seal_seen&after=\(after)")
                #expect(page.ids.isEmpty)
                if page.next == after { break }
                after = page.next
            }
            #expect(requests == 4, "80 events at 30 a request: 3 requests move the cursor, the 4th finds the end")
        }
    }

    /// Oversized bodies, a zstd bomb, garbage, replays and bad query parameters, from a client
    /// holding a valid token: each a 4xx, and an honest gateway's batches land as before.
    @Test func hostileBodiesAndQueriesGet4xxAndChangeNothing() async throws {
        try await withCollector { (url: String, collector: Collector) async throws in
            let honest = encodedBatch(gateway: "gw-a", sequence: 1)
            #expect(try await post(url, honest, token: tokenA).0 == 200)

            let tooLarge = [UInt8](repeating: 7, count: 5 << 20)
            #expect(try await post(url, tooLarge, token: tokenB).0 == 413)
            let bomb = Zstd.compress([UInt8](repeating: 0, count: 64 << 20), level: 19)
            #expect(bomb.count < 1 << 20, "a bomb is small on the wire: \(bomb.count) bytes")
            let (bombStatus, bombReason) = try await post(url, bomb, token: tokenB)
            #expect(bombStatus == 400 && bombReason.contains("limit"), "\(bombStatus) \(bombReason)")
            #expect(try await post(url, Array("not protobuf at all".utf8), token: tokenB).0 == 400)
            #expect(try await post(url, Zstd.compress(Array("not protobuf at all".utf8)), token: tokenB).0 == 400)
            // A replay of another gateway's batch under one's own token is refused; one's own is a repeat.
            #expect(try await post(url, honest, token: tokenB).0 == 403)
            for _ in 0..<3 { #expect(try await post(url, honest, token: tokenA).1.contains("\"status\":\"duplicate\"")) }
            let conflicting = encodedBatch(gateway: "gw-a", sequence: 1, count: 6)
            #expect(try await post(url, conflicting, token: tokenA).0 == 409)

            for query in ["from=yesterday", "to=1e9", "after=-", "limit=ten", "limit=0"] {
                #expect(try await get(url + "/v1/events?" + query).0 == 400, "\(query)")
            }
            #expect(try await get(url + "/healthz", token: nil).0 == 200)
            #expect(try await post(url, encodedBatch(gateway: "gw-a", sequence: 2), token: tokenA).0 == 200)
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 10)
            #expect(try await collector.store.eventCount(gateway: "gw-b") == 0)
        }
    }

    /// The data belongs to the agencies: no read token, no data; a gateway's token is not one.
    @Test func queriesNeedAReadToken() async throws {
        try await withCollector { (url: String, _: Collector) async throws in
            #expect(try await post(url, encodedBatch(gateway: "gw-a", sequence: 1), token: tokenA).0 == 200)
            for path in ["/v1/events", "/v1/gateways"] {
                #expect(try await get(url + path, token: nil).0 == 401)
                #expect(try await get(url + path, token: tokenA).0 == 401)
                #expect(try await get(url + path, token: "read-token-for-the-test-dashboarX").0 == 401)
                #expect(try await get(url + path).0 == 200)
            }
            #expect(try await get(url + "/healthz", token: nil).0 == 200)
        }
    }

    @Test func readTokensAreReadFromAFileAsTokensOrDigests() throws {
        let digest = "a60243642b3fa8ae40426aa05160ab752227b14b626bc11a948abc500f49dbad"
        let readers = try ReadTokens(text: """
            # agency dashboards
            cbp-dashboard  plain-token-0123456789
            sat-dashboard  sha256:\(digest)  ports=ysleta-nb,bota-sb
            wait-site      public-token-0123456789  public
            """, file: "read-tokens")
        #expect(readers.reader(for: "plain-token-0123456789") == Reader(name: "cbp-dashboard", scope: .admin))
        #expect(readers.reader(for: "plain-token-012345678") == nil)
        #expect(readers.reader(for: "digest-token-0123456789") == Reader(name: "sat-dashboard", scope: .ports(["ysleta-nb", "bota-sb"])))
        #expect(readers.reader(for: "public-token-0123456789")?.scope == .public)
        #expect(readers.grantedPorts == ["ysleta-nb", "bota-sb"])
        #expect(throws: CollectorSetupError.self) { try ReadTokens(text: "x token-0123456789012 ports=\n", file: "f") }
        #expect(throws: CollectorSetupError.self) { try ReadTokens(text: "x short\n", file: "f") }
        do {
            _ = try ReadTokens(text: "\nreader sha256:abc\n", file: "read-tokens")
            Issue.record("a short digest was accepted")
        } catch {
            #expect(error.description == "read-tokens:2: sha256: must be followed by 64 hex digits")
        }
        #expect(throws: CollectorSetupError.self) { try ReadTokens(text: "# nobody\n", file: "f") }
    }

    /// 1,100 idle connections used to lock everyone out. Past the cap, the longest-idle
    /// connection makes room; a client that trickles its request head is cut off.
    @Test func idleAndSlowConnectionsCannotLockGatewaysOut() async throws {
        var limits = ConnectionLimits()
        limits.maxConnections = 64
        limits.headerTimeout = .seconds(2)
        try await withCollector(limits: limits) { (url: String, collector: Collector) async throws in
            let port = UInt16(url.split(separator: ":").last!)!
            let idle = (0..<300).map { _ in RawConnection(port: port) }
            #expect(idle.allSatisfy { $0.connected })
            // Past the cap, each newcomer closes the longest-idle connection. (Asking before the
            // server has taken the flood off the accept queue would measure the kernel's SYN
            // retries on a loaded machine, not the collector.)
            #expect(await eventually(30) { idle.filter { $0.closedByPeer }.count >= 300 - 64 })
            // With all 300 held open by their clients, a gateway and a health check still get in.
            #expect(try await get(url + "/healthz", token: nil).0 == 200)
            #expect(try await post(url, encodedBatch(gateway: "gw-a", sequence: 1), token: tokenA).0 == 200)

            // Slow clients: a request head that grows by a byte every 300 ms and never ends.
            let slow = (0..<20).map { _ in RawConnection(port: port) }
            let started = ContinuousClock.now
            #expect(slow.allSatisfy { $0.send("GET /v1/events HTTP/1.1\r\nHost: x\r\nX-Slow: ") })
            var open = slow
            // 2 s is the timeout; 20 s leaves room for a machine busy with every other test
            // (PostgreSQL servers among them), and a trickle without a timeout never ends.
            while !open.isEmpty, ContinuousClock.now - started < .seconds(20) {
                try await Task.sleep(for: .milliseconds(300))
                open = open.filter { $0.send("a") && !$0.closedByPeer }
            }
            #expect(open.isEmpty, "\(open.count) slow clients still connected after 20 s")
            #expect(ContinuousClock.now - started >= .milliseconds(1500), "cut off by the header timeout, not at once")
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 5)
            // Every connection gone and one more answered: nothing is left in the accept queue
            // when the test stops the server.
            for connection in idle + slow { connection.close() }
            #expect(try await get(url + "/healthz", token: nil).0 == 200)
        }
    }

    /// A batch refused for its token is answered before its body is read. The client then sends
    /// the body and nothing more: the connection is idle from there, and its idle timeout closes
    /// it (it used to stay open with no timer at all).
    @Test func aRefusedBodyLeavesAConnectionThatStillTimesOut() async throws {
        var limits = ConnectionLimits()
        limits.idleTimeout = .seconds(1)
        try await withCollector(limits: limits) { (url: String, _: Collector) async throws in
            let port = UInt16(url.split(separator: ":").last!)!
            let client = RawConnection(port: port)
            #expect(client.send("POST /v1/batches HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"))
            // Waited for on a thread of its own: a blocked thread of the cooperative pool could be
            // the one the collector's handler needs.
            let fd = client.fd
            let answer = await offThePool { () -> String in
                var bytes = [UInt8](repeating: 0, count: 4096)
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let got = poll(&poller, 1, 30_000) == 1 ? recv(fd, &bytes, bytes.count, 0) : -1
                return String(decoding: bytes.prefix(max(got, 0)), as: UTF8.self)
            }
            #expect(answer.hasPrefix("HTTP/1.1 401"), "\(answer)")
            #expect(client.send("0123456789"))
            let started = ContinuousClock.now
            #expect(await eventually(30) { client.closedByPeer }, "the connection is still open after 30 s")
            #expect(ContinuousClock.now - started >= .milliseconds(500), "closed by the idle timeout, not at once")
        }
    }
}

/// The ids and the cursor of one `/v1/events` page.
func eventsPage(_ url: String) async throws -> (ids: [Int64], next: Int64) {
    let (status, body) = try await get(url)
    guard status == 200 else { throw CollectorSetupError("GET \(url): \(status) \(body.prefix(200))") }
    let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as! [String: Any]
    let ids = (object["events"] as! [[String: Any]]).map { ($0["id"] as! NSNumber).int64Value }
    return (ids, (object["next_after"] as! NSNumber).int64Value)
}
