import ArgumentParser
import Hummingbird
import LaneAnalytics
import LaneCollector
import LaneCore
import LaneDevices
import LaneGateway
import LaneSimulators
import Logging
import NIOCore
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// `lanegate demo`: a two-lane booth on this machine, nothing to configure. Simulated hardware
/// speaking the real protocols on ptys, the real drivers and daemon, a spool in a temporary
/// directory and a collector on loopback; at the end, what the collector stored is checked
/// against what really happened in the scenario.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a simulated two-lane booth through the real drivers, daemon and collector, and check the result.")

    @Option(help: "Random seed: the same seed gives the same traffic.") var seed: UInt64 = 7
    @Option(help: "Lanes in the booth.") var lanes = 2
    @Option(help: "Vehicles to send through.") var vehicles = 12
    @Option(help: "Queueing and dwell time multiplier (0.05 plays a booth's twenty minutes in one).") var timeScale = 0.05
    @Option(help: "The gateway's batch window in seconds (the product's default: 5).") var batchWindow = 5.0

    func validate() throws {
        guard (1...8).contains(lanes) else { throw ValidationError("--lanes must be 1 to 8") }
        guard (1...2000).contains(vehicles) else { throw ValidationError("--vehicles must be 1 to 2000") }
        guard batchWindow >= 0.01 && batchWindow <= 600 else { throw ValidationError("--batch-window must be 0.01 to 600 seconds") }
        guard timeScale > 0 && timeScale <= 1 else { throw ValidationError("--time-scale must be above 0 and at most 1") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = JournalLogHandler(label: label, journal: false)
            handler.logLevel = .warning
            return handler
        }
        let directory = makeTemporaryDirectory()
        var traffic = BoothTraffic(seed: seed, lanes: lanes, vehicles: vehicles, sealedShare: 0.4, tamperShare: 0.3)
        traffic.timeScale = timeScale
        traffic.exitReadPoints = true
        traffic.plateCameras = .init()
        let scenario = traffic.generate()
        var layout = traffic.layout
        // A demo on loopback: the plates stay readable, so the report can show them.
        for i in layout.devices.indices where layout.devices[i].kind == .camera { layout.devices[i].keepsRawPlates = true }

        // The booth's hardware, simulated: a reader per lane and an e-seal receiver on ptys, a loop card in process.
        let readers = try (1...lanes).map { try MercuryReaderSimulator(link: "\(directory)/rfid-lane\($0)") }
        let receiver = try ESealReceiverSimulator(link: "\(directory)/eseal")
        let loopCard = LoopCardSimulator()
        defer { readers.forEach { $0.stop() }; receiver.stop() }

        // The collector, on loopback.
        let token = "demo-token-\(UInt64.random(in: 1...UInt64.max))"
        let store = try SQLiteEventStore(path: "\(directory)/collector.db")
        // Public read: the demo collector listens on loopback only, for this run.
        let collector = Collector(store: store, tokens: GatewayTokens(pairs: [("demo-gw", token)]), readAccess: .publicRead,
                                  ports: [Self.port(lanes: lanes)])
        try token.write(to: "\(directory)/token")
        // The cameras push to the gateway's plate listener on loopback, each with its token.
        let cameraTokens = (1...lanes).map { _ in "camera-token-\(UInt64.random(in: 1...UInt64.max))" }
        for (lane, cameraToken) in cameraTokens.enumerated() { try cameraToken.write(to: "\(directory)/cam-lane\(lane + 1).token") }
        let platePort = UInt16.random(in: 41_000...49_000)
        let cameras = PlateCameraPusher(host: "127.0.0.1", port: platePort, lanes: lanes, tokens: cameraTokens)

        var config = GatewayConfig(gatewayID: "demo-gw", layout: layout,
                                   batchPolicy: BatchPolicy(window: Nanoseconds(batchWindow * 1e9)), spoolPath: "\(directory)/spool.db")
        config.metricsListen = nil  // a gateway on this machine may hold the metrics port
        config.monitorSocket = "\(directory)/monitor.sock"
        var mercury = MercuryReaderSettings()
        mercury.antennas = [1, 2, 3, 4, 5, 6]
        mercury.onTimeMilliseconds = 50
        config.deviceSetups = layout.devices.enumerated().map { i, device in
            switch device.kind {
            case .rfid: .mercury(mercury, .tty("\(directory)/\(device.name)"))
            case .eseal: .eseal(ESealReceiverSettings(), .tty("\(directory)/eseal"))
            case .loops: .simulatedLoops { loopCard.takeEdges().map { .init(line: $0.line, occupied: $0.occupied, time: $0.time) } }
            case .camera: nil
            }
        }
        config.plateCameras = layout.devices.indices.filter { layout.devices[$0].kind == .camera }.enumerated().map { lane, i in
            PlateCameraSetup(device: DeviceIndex(UInt16(i)), format: PlateCamera.Format(rawValue: cameras.gatewayFormat(lane: lane + 1))!,
                             tokenFile: "\(directory)/cam-lane\(lane + 1).token")
        }
        config.plateListener = PlateListener.Settings(host: "127.0.0.1", port: Int(platePort))

        let out = FileOutput.standardOutput
        out.write("lanegate demo: \(lanes) lanes, \(vehicles) vehicles (seed \(seed)); files in \(directory)\n")
        out.write("watch it live from another terminal: lanegate monitor --socket \(directory)/monitor.sock\n")
        out.flush()
        let (ports, announce) = AsyncStream.makeStream(of: Int.self)
        var quiet = Logger(label: "demo")
        quiet.logLevel = .critical
        let app = try collector.application(address: .hostname("127.0.0.1", port: 0),
                                            onServerRunning: { announce.yield($0.localAddress?.port ?? 0) }, logger: quiet)
        // Stopped gracefully, never cancelled: cancelling a server with accepted connections
        // still queued traps in NIO (apple/swift-nio#2813).
        let server = ServiceGroup(configuration: .init(services: [app], logger: quiet))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { return }
            out.write("the collector's dashboard, while the demo runs: http://127.0.0.1:\(port)/\n")
            out.flush()
            config.collector = .init(url: "http://127.0.0.1:\(port)/v1/batches")
            config.collector?.tokenFile = "\(directory)/token"
            config.collector?.allowPlainHTTP = true

            let daemon = ServiceGroup(configuration: .init(
                services: [GatewayService(config: config, pseudonymizer: nil, logger: Logger(label: "lanegate"), notifier: SystemdNotifier(environment: [:]))],
                logger: quiet))
            group.addTask { try await daemon.run() }
            // Cameras say `reading` at their first push.
            try await waitForDevices(store: store, count: layout.devices.filter { $0.kind != .camera }.count)

            let pushes = scenario.cameraPushes.map { push in
                ScenarioPlayer.Action(at: push.time) { cameras.push(push, utc: ClockAnchor.now().utcNanoseconds) }
            }
            let player = ScenarioPlayer(scenario.detections, actions: pushes, lead: .seconds(1)) { d in
                switch d.payload {
                case .tag(let read): readers[Int(d.device.rawValue)].read(read.tag, antenna: read.antenna, rssi: read.rssi, at: d.time)
                case .seal(let report): receiver.hear(report)
                case .loop(let edge): loopCard.set(line: edge.line, occupied: edge.occupied, at: d.time)
                }
            }
            let seconds = Int(player.end.since(.now()) / 1_000_000_000)
            out.write("playing \(scenario.detections.count) raw detections over \(seconds) s; one line a second:\n")
            out.flush()
            while !player.finished {
                try await Task.sleep(for: .seconds(1))
                out.write(await progressLine(store: store, player: player) + "\n")
                out.flush()
            }
            // The last visits depart (3 s), their batch closes (2 s) and arrives: wait for
            // everything the booth did to be stored, up to 20 s, then stop the gateway and the
            // collector, and compare.
            let settled = ContinuousClock.now + .seconds(20)
            while await !DemoReport(truth: scenario.truth, store: store, cameraAnswers: cameras.answers).allMatched && ContinuousClock.now < settled {
                try await Task.sleep(for: .milliseconds(500))
            }
            // The gateway first (its last batch still reaches the collector), then the collector.
            await daemon.triggerGracefulShutdown()
            try await group.next()
            await server.triggerGracefulShutdown()
            try await group.waitForAll()
            let report = await DemoReport(truth: scenario.truth, store: store, cameraAnswers: cameras.answers)
            out.write(report.text)
            let waits = try await WaitReport(truth: scenario.truth, analytics: collector.analytics, anchor: ClockAnchor.now(), player: player)
            out.write(waits.text)
            out.write(await DeliveryReport(store: store, departAfter: layout.readPoints.first?.departAfter ?? 0).text)
            out.flush()
            if !report.allMatched || !waits.matched { throw ExitCode(1) }
        }
    }

    /// The booth as a port for border delay: each lane's upstream read point is its queue end,
    /// then its booth, then its exit. Lane 2 is a Ready lane, the others general. With time
    /// compressed, a wait takes about a second: no free-flow minimum.
    static func port(lanes: Int) -> PortLayout {
        var points: [PortPoint] = []
        for lane in 1...lanes {
            let type = lane == 2 ? "ready" : "general"
            points.append(PortPoint(place: ReadPlace(gateway: "demo-gw", readPoint: "lane\(lane)/upstream"), stage: .queueEnd, laneType: type))
            points.append(PortPoint(place: ReadPlace(gateway: "demo-gw", readPoint: "lane\(lane)/booth"), stage: .booth, laneType: type, lane: "lane\(lane)"))
            points.append(PortPoint(place: ReadPlace(gateway: "demo-gw", readPoint: "lane\(lane)/exit"), stage: .exit, laneType: type))
        }
        var port = PortLayout(id: "demo", name: "Demo booth", number: "0000", crossing: "Demo", direction: "northbound", points: points)
        port.bounds.minWait = 0
        port.bounds.minCrossing = 0
        return port
    }

    private func waitForDevices(store: SQLiteEventStore, count: Int) async throws {
        for _ in 0..<200 {
            var query = EventQuery()
            query.gateway = "demo-gw"
            query.type = "device_status"
            let reading = (try? await store.events(query).events.filter { $0.json.contains("\"state\":\"reading\"") }.count) ?? 0
            if reading >= count { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("the simulated devices did not come up within 20 s")
    }

    private func progressLine(store: SQLiteEventStore, player: ScenarioPlayer) async -> String {
        let (delivered, total) = player.progress
        let stored = (try? await store.eventCount(gateway: "demo-gw")) ?? 0
        return "  detections \(delivered)/\(total), events stored at the collector \(stored)"
    }

    private func makeTemporaryDirectory() -> String {
        var template = Array("/tmp/lanegate-demo-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }
}

/// What the collector stored, checked against the scenario's ground truth.
struct DemoReport {
    var lines: [String] = []
    var allMatched = true

    init(truth: BoothTraffic.Truth, store: SQLiteEventStore, cameraAnswers: [Int: Int]) async {
        func stored(_ type: String) async -> [String] {
            var query = EventQuery()
            query.gateway = "demo-gw"
            query.type = type
            query.limit = 100_000
            return (try? await store.events(query).events.map(\.json)) ?? []
        }
        let departures = await stored("tag_departed"), vehicles = await stored("vehicle"), changes = await stored("seal_changed")
        let matchedVisits = truth.visits.filter { visit in
            departures.contains { $0.contains("\"read_point\":\"\(visit.readPoint)\"") && $0.contains("\"tag\":\"\(visit.tag.hex)\"")
                && $0.contains("\"reads\":\(visit.reads),") }
        }.count
        // A seal whose first report the receiver heard was already tampered arrives as a sighting
        // with that status (a priority event too), not as a change.
        let alarms = changes + (await stored("seal_seen")).filter { $0.contains("tampered") }
        let matchedTampers = truth.tampers.filter { t in alarms.contains { $0.contains("\"seal\":\"\(t.seal)\"") && $0.contains("tampered") } }.count
        check("tag visits (read point, tag, read count)", truth: truth.visits.count, stored: departures.count, matched: matchedVisits)
        check("vehicle passages", truth: truth.passages.count, stored: vehicles.count, matched: min(vehicles.count, truth.passages.count))
        check("seal tampers", truth: truth.tampers.count, stored: alarms.count, matched: matchedTampers)
        let plates = await stored("plate_read"), passages = await stored("passage")
        let taken = cameraAnswers[200] ?? 0
        if taken != truth.vehicles.count {
            lines.append("  camera pushes the gateway took: \(taken) of \(truth.vehicles.count) (answers \(cameraAnswers.sorted { $0.key < $1.key }))")
            allMatched = false
        }
        let matchedPlates = truth.vehicles.filter { v in
            guard let plate = PlateText(v.camera.reported) else { return plates.contains { $0.contains("\"plate_missed\":true") } }
            return plates.contains { $0.contains("\"plate_text\":\"\(plate.shown)\"") }
        }.count
        check("plate reads", truth: truth.vehicles.count, stored: plates.count, matched: matchedPlates)
        // A passage matches its vehicle when its loop call starts at the vehicle's, and it
        // carries the vehicle's tag (when the booth read it) and the plate the camera read.
        let matchedPassages = truth.vehicles.filter { v in
            let plate = PlateText(v.camera.reported).map { "\"plate_text\":\"\($0.shown)\"" } ?? "\"plate_missed\":true"
            return passages.contains { p in
                p.contains("\"loop\":\"\(v.lane)/loop-b\"") && p.contains(plate) && (!v.tagRead || p.contains(v.tag.hex))
                    && (v.seal.map { p.contains("\($0)") } ?? true)
            }
        }.count
        check("passage records (loop, tag, plate, seal)", truth: truth.vehicles.count, stored: passages.count, matched: matchedPassages)
        let gaps = await stored("gap").count
        lines.append("  data lost on the way (gap events): \(gaps)")
        if gaps > 0 { allMatched = false }
        lines.append(allMatched ? "result: everything that happened in the booth reached the collector, once."
                                : "result: MISMATCH between the booth's truth and the collector (see above).")
    }

    private mutating func check(_ what: String, truth: Int, stored: Int, matched: Int) {
        let ok = truth == stored && matched == truth
        if !ok { allMatched = false }
        lines.append("  \(what): happened \(truth), stored \(stored), matching \(matched) \(ok ? "✓" : "✗")")
    }

    var text: String { (["", "what the collector stored, against what happened:"] + lines).joined(separator: "\n") + "\n" }
}

private extension String {
    func write(to path: String) throws {
        guard let file = fopen(path, "w") else { throw ValidationError("cannot write \(path)") }
        fputs(self, file)
        fclose(file)
    }
}

/// Wait times as the collector measured them from its stored visits, against the scenario's.
struct WaitReport {
    var lines: [String] = []
    var matched = false

    /// `player` played the scenario: it says where scenario times fell on this machine's clock.
    init(truth: BoothTraffic.Truth, analytics: PortAnalytics, anchor: ClockAnchor, player: ScenarioPlayer) async throws {
        let port = analytics.ports[0]
        let hour: Int64 = 3_600_000_000_000
        let trips = try await analytics.trips(port, from: anchor.utcNanoseconds - hour, to: anchor.utcNanoseconds + hour).trips
        var errors: [Int64] = [], trueWaits: [Int64] = [], measured: [Int64] = []
        for crossing in truth.crossings {
            let queueEnd = anchor.utcNanoseconds(at: player.local(crossing.queueEnd))
            guard let trip = trips.first(where: { $0.trip.tag == crossing.tag.hex && abs($0.trip.queueEnd - queueEnd) < 1_000_000_000 }),
                  let wait = trip.trip.duration(.wait) else { continue }
            errors.append(abs(wait - crossing.wait))
            trueWaits.append(crossing.wait)
            measured.append(wait)
        }
        func ms(_ ns: Int64) -> String { "\(ns / 1_000_000) ms" }
        func median(_ v: [Int64]) -> Int64 { v.isEmpty ? 0 : v.sorted()[(v.count - 1) / 2] }
        matched = !errors.isEmpty && errors.count * 100 >= truth.crossings.count * 85
        lines.append("  vehicles matched into trips: \(errors.count) of \(truth.crossings.count) \(matched ? "✓" : "✗")")
        lines.append("  wait (end of queue to booth): measured median \(ms(median(measured))), true median \(ms(median(trueWaits))); "
                     + "per vehicle off by \(ms(median(errors))) (median), \(ms(errors.max() ?? 0)) at most")
    }

    var text: String { (["", "wait times, as the collector measured them, against the truth (time compressed):"] + lines).joined(separator: "\n") + "\n" }
}

/// How long events took to reach the collector, from the moment the pipeline could emit them:
/// the hold-back after the detection (detections from several devices are put in time order
/// first), and for a departure the read point's `depart_after` since the last read. Routine
/// events wait for the batch window; priority events (seal changes, faults, losses) close their
/// batch at once.
struct DeliveryReport {
    var text = ""

    init(store: SQLiteEventStore, departAfter: Nanoseconds) async {
        var query = EventQuery()
        query.gateway = "demo-gw"
        query.limit = 100_000
        query.maxScanned = 1_000_000
        let events = (try? await store.events(query).events) ?? []
        var routine: [Int64] = [], priority: [Int64] = []
        for e in events {
            let isDeparture = e.json.contains("\"type\":\"tag_departed\"") || e.json.contains("\"type\":\"seal_departed\"")
            let delay = e.receivedUTCNanoseconds - e.utcNanoseconds - LivePipeline.defaultHoldBack - (isDeparture ? departAfter : 0)
            let urgent = ["\"type\":\"seal_changed\"", "\"type\":\"detector_fault\"", "\"type\":\"gap\"",
                          "\"state\":\"lost\"", "\"state\":\"error\""].contains { e.json.contains($0) }
                || (e.json.contains("\"type\":\"seal_seen\"") && (e.json.contains("tampered") || e.json.contains("opened")))
            if urgent { priority.append(delay) } else { routine.append(delay) }
        }
        func line(_ name: String, _ delays: [Int64]) -> String {
            guard !delays.isEmpty else { return "  \(name): none" }
            let s = delays.sorted()
            func ms(_ p: Double) -> String { "\(s[min(s.count - 1, Int((p * Double(s.count)).rounded(.up)) - 1)] / 1_000_000) ms" }
            return "  \(name) (\(s.count)): p50 \(ms(0.5)), p99 \(ms(0.99)), max \(s.last! / 1_000_000) ms"
        }
        text = (["", "from emission in the pipeline to arrival at the collector:", line("routine events", routine),
                 line("priority events", priority)]).joined(separator: "\n") + "\n"
    }
}
