import Foundation
import LaneCore
import LaneSimulators
import LaneSpool
import Testing
import LaneCollectorTestSupport
import LaneTestSupport

/// `lanegate run` as systemd runs it: the real binary, its devices simulated on ptys, a real
/// collector on loopback, and a notify socket standing in for systemd's.
@Suite("The daemon", .serialized)
struct DaemonTests {

    @Test func readsDevicesSendsEventsTalksToSystemdAndStopsCleanly() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: lanegateTool), "build first: swift build --build-tests")
        let dir = temporaryDirectory()
        let reader = try MercuryReaderSimulator(link: dir + "/rfid")
        let receiver = try ESealReceiverSimulator(link: dir + "/eseal")
        defer {
            reader.stop()
            receiver.stop()
        }
        let notify = try DatagramSink(path: dir + "/notify")
        try tokenA.write(toFile: dir + "/token", atomically: true, encoding: .utf8)

        let metricsPort = 30_000 + Int.random(in: 0..<20_000)
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
            [metrics]
            listen = "127.0.0.1:\(metricsPort)"
            [[devices]]
            name = "rfid-a"
            kind = "rfid"
            tty = "\(dir)/rfid"
            antennas = [1]
            cycle = "50ms"
            [[devices]]
            name = "eseal"
            kind = "eseal"
            tty = "\(dir)/eseal"
            [[lanes]]
            name = "lane1"
              [[lanes.read_points]]
              name = "booth"
              antennas = [{ device = "rfid-a", ports = [1] }, { device = "eseal", ports = [1] }]
              depart_after = "1s"
            """.write(toFile: dir + "/lanegate.toml", atomically: true, encoding: .utf8)

            let (daemon, log) = try Self.launchDaemon(config: dir + "/lanegate.toml", environment: [
                "NOTIFY_SOCKET": dir + "/notify", "WATCHDOG_USEC": "2000000", "JOURNAL_STREAM": "8:1234"])

            let ready = await eventually(20) { notify.received.contains { $0.hasPrefix("READY=1") } || !daemon.isRunning }
            guard ready, daemon.isRunning else {
                let text = log.text
                Issue.record("the daemon did not start: \(text)")
                return
            }
            #expect(await eventually(10) { notify.received.contains { $0.contains("STATUS=devices 2/2 reading") } })

            let tag = TagID(hex: "3005fb63ac1f3841ec880467")!
            for _ in 0..<5 { reader.read(tag, antenna: 1, rssi: -48); try await Task.sleep(for: .milliseconds(60)) }
            let seal = SealID(manufacturer: 0x0E1F, tag: 0xC0FFEE)
            receiver.hear(SealReport(seal: seal, status: .sealed, eventCount: 1, eventTime: 1_763_900_000, rssi: -60, antenna: 1))
            receiver.hear(SealReport(seal: seal, status: [.tampered, .opened], eventCount: 2, eventTime: 1_763_900_100, rssi: -60, antenna: 1))

            var stored = ""
            for _ in 0..<100 where !(stored.contains("tag_departed") && stored.contains("seal_changed")) {
                try await Task.sleep(for: .milliseconds(200))
                stored = (try? await get(url + "/v1/events?gateway=gw-a"))?.1 ?? ""
            }
            #expect(stored.contains("tag_departed") && stored.contains("seal_changed"), "events reached the collector: \(stored.prefix(400))")
            #expect(stored.contains("3005fb63ac1f3841ec880467"))
            #expect(stored.contains("device_status"), "device states travel with the events")
            #expect(notify.received.contains("WATCHDOG=1"), "the watchdog is fed while the pipeline turns")

            var metrics = ""
            for _ in 0..<30 where !metrics.contains("lanegate_uplink_batches_acknowledged_total") {
                try await Task.sleep(for: .milliseconds(200))
                metrics = (try? await get("http://127.0.0.1:\(metricsPort)/metrics"))?.1 ?? ""
            }
            for expected in [#"lanegate_device_state{device="rfid-a"} 3"#, #"lanegate_device_state{device="eseal"} 3"#,
                             #"lanegate_device_detections_total{device="rfid-a"} 5"#, "lanegate_spool_batches ",
                             "lanegate_uplink_batches_acknowledged_total ", "lanegate_clock_synchronized "] {
                #expect(metrics.contains(expected), "metrics has \(expected): \(metrics.prefix(300))")
            }

            // A read the pipeline has not yet batched when SIGTERM comes: the shutdown order
            // (pipeline drains and commits, then the uplink delivers) still brings it across.
            let last = TagID(hex: "30aaaaaaaaaaaaaaaaaaaa01")!
            reader.read(last, antenna: 1, rssi: -50)
            var counted = false
            for _ in 0..<50 where !counted {
                try await Task.sleep(for: .milliseconds(200))
                let text = (try? await get("http://127.0.0.1:\(metricsPort)/metrics"))?.1 ?? ""
                counted = text.contains(#"lanegate_device_detections_total{device="rfid-a"} 6"#)
            }
            #expect(counted, "the driver counted the last read")
            kill(daemon.processIdentifier, SIGTERM)
            let stopped = await daemon.ended(within: .seconds(20))
            #expect(stopped, "SIGTERM stops it within the unit's stop timeout")
            #expect(stopped && daemon.terminationStatus == 0)
            let afterStop = (try? await get(url + "/v1/events?gateway=gw-a&limit=1000"))?.1 ?? ""
            #expect(afterStop.contains("30aaaaaaaaaaaaaaaaaaaa01"), "the read made just before SIGTERM arrived")
            #expect(notify.received.contains { $0.hasPrefix("STOPPING=1") })
            let text = log.text
            #expect(text.contains("<6>lanegate: rfid-a reading"), "journald lines with priorities: \(text.prefix(600))")
            let spool = try SpoolReader(path: dir + "/spool.db").summary()
            #expect(spool.batches == 0, "the last batch was committed and delivered before exit")
        }
    }
}

extension DaemonTests {
    /// `lanegate check` runs each device's real connect flow, asks the collector whether it
    /// knows the gateway (storing nothing), and looks at the clock and the spool's directory.
    @Test func checkSaysWhatIsWellAndWhatIsNot() async throws {
        let dir = temporaryDirectory()
        let reader = try MercuryReaderSimulator(link: dir + "/rfid")
        defer { reader.stop() }
        try "not-the-token".write(toFile: dir + "/wrong-token", atomically: true, encoding: .utf8)
        try tokenA.write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        try "a camera token of 32 characters\n".write(toFile: dir + "/cam.token", atomically: true, encoding: .utf8)
        try "short\n".write(toFile: dir + "/cam-short.token", atomically: true, encoding: .utf8)
        try await withCollector { url, collector in
            func config(token: String, cameraToken: String = "cam.token") -> String {
                """
                [gateway]
                id = "gw-a"
                [collector]
                url = "\(url)/v1/batches"
                token_file = "\(dir)/\(token)"
                allow_plain_http = true
                [spool]
                path = "\(dir)/spool.db"
                min_free_disk = "0"
                [[devices]]
                name = "rfid-a"
                kind = "rfid"
                tty = "\(dir)/rfid"
                [[devices]]
                name = "eseal"
                kind = "eseal"
                tty = "\(dir)/no-such-receiver"
                [[devices]]
                name = "cam-1"
                kind = "camera"
                format = "json-webhook"
                token_file = "\(dir)/\(cameraToken)"
                raw_plates = true
                [plate_listener]
                listen = "127.0.0.1:48480"
                [[lanes]]
                name = "lane1"
                  [[lanes.read_points]]
                  name = "booth"
                  antennas = [{ device = "rfid-a", ports = [1] }, { device = "eseal", ports = [1] }]
                  [[lanes.read_points]]
                  name = "plate"
                  antennas = [{ device = "cam-1", ports = [1] }]
                """
            }
            try config(token: "token").write(toFile: dir + "/good.toml", atomically: true, encoding: .utf8)
            try config(token: "wrong-token", cameraToken: "cam-short.token").write(toFile: dir + "/bad.toml", atomically: true, encoding: .utf8)

            let good = try await runTool(["check", "--config", dir + "/good.toml", "--device-timeout", "3"])
            #expect(good.output.contains("ok   rfid-a: M6e Nano firmware 01.0B.01.02"), "\(good.output)")
            #expect(good.output.contains("FAIL eseal: \(dir)/no-such-receiver not found"), "\(good.output)")
            #expect(good.output.contains("ok   collector: \(url)/v1/batches knows gateway gw-a"), "\(good.output)")
            #expect(good.output.contains("ok   spool: \(dir) writable"), "\(good.output)")
            #expect(good.output.contains("ok   cam-1: token read from \(dir)/cam.token; the camera pushes json-webhook to http://127.0.0.1:48480/v1/plates/cam-1"),
                    "a camera is checked for what it needs, not for a tty: \(good.output)")
            #expect(good.status == 1, "a missing receiver is a problem")

            let bad = try await runTool(["check", "--config", dir + "/bad.toml", "--device-timeout", "3"])
            #expect(bad.output.contains("FAIL collector: \(url)/v1/batches refuses this gateway (401)"), "\(bad.output)")
            #expect(bad.output.contains("FAIL cam-1: ") && bad.output.contains("at least 16 characters"), "\(bad.output)")
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 0, "checking stores nothing")
        }
    }

    /// `lanegate record` captures what a reader delivers into a trace that `lanegate replay`
    /// turns into the same visit.
    @Test func recordCapturesATraceThatReplays() async throws {
        let dir = temporaryDirectory()
        let reader = try MercuryReaderSimulator(link: dir + "/rfid")
        defer { reader.stop() }
        try """
        [gateway]
        id = "gw-a"
        [[devices]]
        name = "rfid-a"
        kind = "rfid"
        tty = "\(dir)/rfid"
        [[lanes]]
        name = "lane1"
          [[lanes.read_points]]
          name = "booth"
          antennas = [{ device = "rfid-a", ports = [1] }]
        """.write(toFile: dir + "/lanegate.toml", atomically: true, encoding: .utf8)
        let recording = Task {
            try await runTool(["record", "--config", dir + "/lanegate.toml", "--seconds", "6", "--output", dir + "/trace.jsonl"])
        }
        let tag = TagID(hex: "3005fb63ac1f3841ec880467")!
        // Reads count once the recorder's reader streams, which the trace itself says.
        let streaming = await eventually(10) {
            (try? String(contentsOfFile: dir + "/trace.jsonl", encoding: .utf8))?.contains("reading: streaming") == true
        }
        #expect(streaming, "the recorder reached its reader")
        for _ in 0..<4 { reader.read(tag, antenna: 1, rssi: -51); try await Task.sleep(for: .milliseconds(100)) }
        let recorded = try await recording.value
        #expect(recorded.status == 0)
        let trace = try String(contentsOfFile: dir + "/trace.jsonl", encoding: .utf8)
        #expect(trace.contains("# rfid-a reading: streaming"), "\(trace.prefix(500))")
        #expect(trace.components(separatedBy: "\"epc\":\"3005fb63ac1f3841ec880467\"").count - 1 == 4, "\(trace.prefix(800))")

        let replayed = try await runTool(["replay", "--config", dir + "/lanegate.toml", dir + "/trace.jsonl"])
        #expect(replayed.status == 0)
        #expect(replayed.output.contains("\"type\":\"tag_departed\""), "\(replayed.output.prefix(500))")
        #expect(replayed.output.contains("\"reads\":4"), "\(replayed.output.prefix(500))")
    }

    /// `lanegate run --config config` with `environment`; its standard error goes to the log file.
    static func launchDaemon(config: String, environment: [String: String]) throws -> (Process, CapturedOutput) {
        let log = CapturedOutput()
        return (try launchTool(lanegateTool, ["run", "--config", config], stderr: log, environment: environment), log)
    }

    /// `lanegate arguments…` to its end: exit status, standard output and standard error.
    func runTool(_ arguments: [String]) async throws -> (status: Int32, output: String, errors: String) {
        try await runToolCapturing(lanegateTool, arguments)
    }

    /// On a machine with no readers and no GPIO chips, `lanegate devices` says what each
    /// configured device wants and why it is not there, in lines that fit a terminal.
    @Test func devicesNamesWhatIsMissingAndWhy() async throws {
        let (status, text, _) = try await runTool(["devices", "--config", repositoryRoot.appendingPathComponent("etc/lanegate.toml").path])
        #expect(status == 0)
        #expect(text.contains("missing: rfid-lane1 wants 0403:6001 serial A10K2B3"), "\(text)")
        #expect(text.contains("missing: loops wants gpiochip0"), "\(text)")
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 80 }, "80 columns: \(text)")
    }
}
