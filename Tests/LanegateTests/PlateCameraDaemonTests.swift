import AsyncHTTPClient
import Foundation
import LaneCore
import LaneSimulators
import NIOCore
import Testing
import LaneCollectorTestSupport
import LaneTestSupport

/// `lanegate run` with two licence-plate cameras pushing to its booth listener, one in each
/// format family, and a hostile peer on the same LAN. Every good read reaches the collector as
/// a `plate_read` with the plate pseudonymised; every bad push gets its 4xx and its count, and
/// the daemon keeps running.
@Suite("Plate cameras through the daemon", .serialized)
struct PlateCameraDaemonTests {
    static let hikToken = "hik-token-0123456789abcdef"
    static let streamToken = "stream-token-0123456789abcdef"

    func push(_ url: String, _ body: [UInt8], contentType: String, token: String?, inQuery: Bool = false) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url + (inQuery && token != nil ? "?token=\(token!)" : ""))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        if let token, !inQuery { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: requestDeadline)
            return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
        } catch {
            throw PushFailed(description: "POST \(url) (\(body.count) bytes): \(error)")
        }
    }

    @Test func readsArrivePseudonymisedAndBadPushesAreRefusedAndCounted() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: lanegateTool), "build first: swift build --build-tests")
        let dir = temporaryDirectory()
        try tokenA.write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        try "a site key of at least sixteen bytes\n".write(toFile: dir + "/site.key", atomically: true, encoding: .utf8)
        try Self.hikToken.write(toFile: dir + "/hik.token", atomically: true, encoding: .utf8)
        try (Self.streamToken + "\n").write(toFile: dir + "/stream.token", atomically: true, encoding: .utf8)
        let ports = try freeLoopbackPorts(2), metricsPort = ports[0], platePort = ports[1]
        let listener = "http://127.0.0.1:\(platePort)/v1/plates"

        try await withCollector { url, _ in
            try """
            [gateway]
            id = "gw-a"
            [collector]
            url = "\(url)/v1/batches"
            token_file = "\(dir)/token"
            allow_plain_http = true
            [spool]
            path = "\(dir)/spool.db"
            min_free_disk = "0"
            [pipeline]
            batch_window = "1s"
            [privacy]
            hash_tag_ids = true
            key_file = "\(dir)/site.key"
            [metrics]
            listen = "127.0.0.1:\(metricsPort)"
            [plate_listener]
            listen = "127.0.0.1:\(platePort)"
            max_body = "256KiB"
            [[devices]]
            name = "cam-1"
            kind = "camera"
            format = "hikvision-isapi"
            token_file = "\(dir)/hik.token"
            [[devices]]
            name = "cam-2"
            kind = "camera"
            format = "json-webhook"
            token_file = "\(dir)/stream.token"
            [[lanes]]
            name = "lane1"
              [[lanes.read_points]]
              name = "plate"
              antennas = [{ device = "cam-1", ports = [1] }]
            [[lanes]]
            name = "lane2"
              [[lanes.read_points]]
              name = "plate"
              antennas = [{ device = "cam-2", ports = [1] }]
            """.write(toFile: dir + "/lanegate.toml", atomically: true, encoding: .utf8)
            // Something else holds the listener's port when the daemon starts (at boot, the booth
            // LAN's address may not be up yet): the daemon runs on, says why, and binds later.
            var squatter: TCPListener? = try TCPListener(port: UInt16(platePort))
            let (daemon, log) = try DaemonTests.launchDaemon(config: dir + "/lanegate.toml", environment: [:])
            defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
            let told = await eventually(20) {
                let statuses = (try? await get(url + "/v1/events?gateway=gw-a&type=device_status"))?.1 ?? ""
                return statuses.contains("cannot listen on 127.0.0.1:\(platePort)") || !daemon.isRunning
            }
            #expect(told && daemon.isRunning, "the cameras' error reached the collector: \(log.text.suffix(600))")
            _ = squatter
            squatter = nil
            let listening = await eventually(40) {
                (try? await push(listener + "/cam-1", [], contentType: "text/plain", token: nil))?.0 == 401 || !daemon.isRunning
            }
            try #require(listening && daemon.isRunning, "the listener came up: \(log.text.suffix(800))")

            // A peer on the booth LAN holds 100 connections open, saying nothing: the listener keeps
            // 64 and closes the idlest for each new one, so the cameras still get in. The probe's
            // kept-alive connection above is the idlest of all and goes first; the pushes wait
            // until the listener has taken the flood in, or one could be sent on that connection
            // as it closes (a camera would retry; the test would count a lost push).
            let idle = (0..<100).map { _ in RawConnection(port: UInt16(platePort)) }
            defer { idle.forEach { $0.close() } }
            #expect(idle.allSatisfy { $0.connected })
            let evicted = await eventually(30) { idle.filter(\.closedByPeer).count >= 36 }
            #expect(evicted, "the listener closed the idlest connections")

            // Good pushes: Hikvision multipart with pictures, Stream and Rekor JSON, and a vehicle
            // whose plate the camera could not read.
            let utc: Int64 = 1_796_058_942_000_000_000
            let hik = PlateCameraSimulator(format: .hikvisionISAPI, camera: "cam-1")
            let stream = PlateCameraSimulator(format: .plateRecognizerStream, camera: "cam-2")
            let rekor = PlateCameraSimulator(format: .rekorScout, camera: "cam-2")
            let shot = PlateCameraSimulator.Shot(truth: "ABO1234", reported: "ABO1234", confidence: 0.91, kind: .exact)
            let confused = PlateCameraSimulator.Shot(truth: "ABO1234", reported: "AB01234", confidence: 0.88, kind: .confusable)
            let missed = PlateCameraSimulator.Shot(truth: "XYZ9876", reported: "", confidence: 0.2, kind: .missed)
            var (type, body) = hik.push(shot, utc: utc, sequence: 1)
            #expect(try await push(listener + "/cam-1", body, contentType: type, token: Self.hikToken).0 == 200)
            (type, body) = hik.push(missed, utc: utc, sequence: 2)
            #expect(try await push(listener + "/cam-1", body, contentType: type, token: Self.hikToken, inQuery: true).0 == 200,
                    "a camera that can only be given a URL puts its token in the query")
            (type, body) = stream.push(confused, utc: utc, sequence: 3)
            #expect(try await push(listener + "/cam-2", body, contentType: type, token: Self.streamToken).0 == 200)
            (type, body) = rekor.push(shot, utc: utc, sequence: 4)
            #expect(try await push(listener + "/cam-2", body, contentType: type, token: Self.streamToken).0 == 200)

            // Bad pushes: each its status, none stops anything. The first four are answered before
            // their bodies are read; an HTTP client may then hang up mid-body and lose the answer
            // (AsyncHTTPClient sometimes does), so these go out on a plain socket that sends the
            // whole request and then reads the status line.
            (type, body) = hik.push(shot, utc: utc, sequence: 5)
            let port = UInt16(platePort)
            #expect(await Self.rawPush(port, "/v1/plates/cam-1", body, contentType: type, token: Self.streamToken) == 401,
                    "another camera's token")
            #expect(await Self.rawPush(port, "/v1/plates/cam-1", body, contentType: type, token: nil) == 401)
            #expect(await Self.rawPush(port, "/v1/plates/cam-9", body, contentType: type, token: Self.hikToken) == 404)
            #expect(await Self.rawPush(port, "/v1/plates/cam-1", [UInt8](repeating: 0x41, count: 300 << 10), contentType: type,
                                       token: Self.hikToken) == 413)
            #expect(try await push(listener + "/cam-2", Array("{\"data\": [1,".utf8), contentType: "application/json",
                                   token: Self.streamToken).0 == 400)
            #expect(try await push(listener + "/cam-2", Array("hello".utf8), contentType: "text/plain",
                                   token: Self.streamToken).0 == 415)
            #expect(try await push(listener + "/cam-1", Array("<EventNotificationAlert><eventType>ANPR".utf8),
                                   contentType: "application/xml", token: Self.hikToken).0 == 400)

            // The listener kept at most 64 of them: the others it closed.
            let closedByListener = idle.filter(\.closedByPeer).count
            #expect(closedByListener >= 36, "\(closedByListener) of 100 idle connections closed")

            var stored = ""
            let arrived = await eventually(20) {
                stored = (try? await get(url + "/v1/events?gateway=gw-a&limit=1000"))?.1 ?? ""
                return stored.components(separatedBy: "\"plate_read\"").count - 1 == 4 && stored.contains("push refused, malformed")
            }
            #expect(arrived, "four reads and cam-1's error reached the collector: \(stored.prefix(1500))")
            #expect(daemon.isRunning)
            let page = try JSONSerialization.jsonObject(with: Data(stored.utf8)) as? [String: Any]
            let reads = (page?["events"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == "plate_read" }
            let plates = reads.compactMap { $0["plate"] as? String }
            #expect(plates.count == 3 && Set(plates).count == 1, "one plate three times, an O read as 0 included: \(plates)")
            #expect(plates.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
            #expect(reads.contains { $0["plate_missed"] as? Bool == true && $0["read_point"] as? String == "lane1/plate" })
            #expect(!stored.contains("ABO1234") && !stored.contains("AB01234"), "no raw plate leaves the booth")
            #expect(reads.filter { ($0["picture_sha256"] as? String)?.count == 64 }.count == 2, "Hikvision's pictures, as digests")
            #expect(reads.filter { $0["read_point"] as? String == "lane2/plate" }.count == 2)

            var metrics = ""
            let counted = await eventually(10) {
                metrics = (try? await get("http://127.0.0.1:\(metricsPort)/metrics"))?.1 ?? ""
                return metrics.contains(#"lanegate_plate_pushes_total{camera="cam-1",outcome="accepted"} 2"#)
                    && metrics.contains(#"lanegate_plate_pushes_total{camera="cam-1",outcome="malformed"} 1"#)
            }
            #expect(counted, "\(metrics.split(separator: "\n").filter { $0.contains("plate") }) \(log.text.split(separator: "\n").filter { $0.contains("metrics") })")
            // Three: the two above and the probe that waited for the listener.
            for expected in [#"{camera="cam-1",outcome="unauthorized"} 3"#, #"{camera="",outcome="unknown_camera"} 1"#,
                             #"{camera="cam-1",outcome="too_large"} 1"#, #"{camera="cam-2",outcome="malformed"} 1"#,
                             #"{camera="cam-2",outcome="unsupported"} 1"#, #"{camera="cam-2",outcome="accepted"} 2"#,
                             #"lanegate_device_detections_total{device="cam-2"} 2"#] {
                #expect(metrics.contains(expected), "metrics has \(expected)")
            }
            kill(daemon.processIdentifier, SIGTERM)
            #expect(await daemon.ended(within: .seconds(20)) && daemon.terminationStatus == 0)
        }
    }

    /// POSTs on a fresh connection, sending the whole body whatever comes back first; the answer's
    /// status, or nil when none came within 10 s.
    static func rawPush(_ port: UInt16, _ path: String, _ body: [UInt8], contentType: String, token: String?) async -> Int? {
        await offThePool { () -> Int? in
            let connection = RawConnection(port: port)
            defer { connection.close() }
            guard connection.connected else { return nil }
            let fd = connection.fd
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \(contentType)\r\n"
                + (token.map { "Authorization: Bearer \($0)\r\n" } ?? "") + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            let request = Array(head.utf8) + body
            var sent = 0
            while sent < request.count {
                let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { break }
                sent += n
            }
            var answer = [UInt8](repeating: 0, count: 64)
            let got = recv(fd, &answer, answer.count, 0)
            guard got >= 12 else { return nil }
            return Int(String(decoding: answer[9..<12], as: UTF8.self))
        }
    }

    struct PushFailed: Error, CustomStringConvertible { let description: String }
}
