import FoundationEssentials
import LaneCore
@testable import LaneGateway
import Testing

/// What `lanegate monitor` is made of: the lane activity the pipeline feeds, the snapshot the
/// socket carries, and the screen that must fit 80×24.
@Suite("Monitor")
struct MonitorTests {
    /// Two lanes: lane1 has a reader's ports 1–2 and the receiver at "booth", and a speed trap
    /// up → down 5 m apart; lane2 has port 3 and one loop that faults after 2 s of presence.
    static let layout = LaneLayout(
        devices: [.init(name: "rfid", kind: .rfid), .init(name: "seals", kind: .eseal), .init(name: "loops", kind: .loops)],
        readPoints: [
            .init(name: "booth", lane: "lane1", antennas: [.init(device: DeviceIndex(0), port: 1), .init(device: DeviceIndex(0), port: 2),
                                                           .init(device: DeviceIndex(1), port: 1)], departAfter: .seconds(3)),
            .init(name: "exit", lane: "lane2", antennas: [.init(device: DeviceIndex(0), port: 3)], departAfter: .seconds(1)),
        ],
        loops: [
            .init(name: "up", lane: "lane1", device: DeviceIndex(2), line: 0),
            .init(name: "down", lane: "lane1", device: DeviceIndex(2), line: 1),
            .init(name: "l2", lane: "lane2", device: DeviceIndex(2), line: 2, maxPresence: .seconds(2)),
        ],
        speedTraps: [.init(upstream: 0, downstream: 1, spacing: 5)])

    /// The pipeline thread's part, as `lanegate run` does it: pipeline, activity, loop watch.
    final class Lane {
        let pipeline = LanePipeline(layout: MonitorTests.layout)
        let activity = LaneActivity(layout: MonitorTests.layout)
        var loops = LoopWatch(loops: MonitorTests.layout.loops.count)

        func pass(_ detections: [Detection], until ms: Int64) {
            var events: [LaneEvent] = []
            for d in detections { pipeline.process(d, into: &events) }
            pipeline.advance(to: at(ms), into: &events)
            activity.record(events)
            loops.look(at: pipeline, for: activity)
        }

        func lanes(at ms: Int64) -> [MonitorSnapshot.Lane] { activity.snapshot(now: at(ms)).lanes }
    }

    static func read(_ hex: String, port: UInt8, rssi: Int8, at ms: Int64) -> Detection {
        Detection(time: at(ms), device: DeviceIndex(0), payload: .tag(TagRead(tag: TagID(hex: hex)!, antenna: port, rssi: rssi)))
    }

    static func edge(_ line: UInt16, _ on: Bool, at ms: Int64) -> Detection {
        Detection(time: at(ms), device: DeviceIndex(2), payload: .loop(LoopEdge(line: line, occupied: on)))
    }

    static func seal(_ status: SealStatus, rssi: Int8, at ms: Int64) -> Detection {
        Detection(time: at(ms), device: DeviceIndex(1), payload: .seal(SealReport(
            seal: SealID(manufacturer: 0x0E1F, tag: 0xC0FFEE), status: status, eventCount: 1, eventTime: 0, rssi: rssi, antenna: 1)))
    }

    @Test func activityFollowsVisitsLoopsVehiclesAndSeals() throws {
        let lane = Lane()
        let tag = "3005fb63ac1f3841ec880467"
        lane.pass([Self.read(tag, port: 1, rssi: -60, at: 1000), Self.edge(0, true, at: 1000)], until: 1100)
        var lane1 = try #require(lane.lanes(at: 1100).first)
        #expect(lane1.name == "lane1")
        #expect(lane1.loops.map(\.name) == ["up", "down"])
        #expect(lane1.loops[0].occupied && !lane1.loops[1].occupied, "the upstream loop's call, once debounced")
        #expect(lane1.visits.count == 1 && lane1.visits[0].present && lane1.visits[0].reads == nil)
        #expect(lane1.visits[0].peakRSSI == -60 && lane1.visits[0].tag == tag)

        // More reads on both ports, the trap crossed at 10 m/s, a seal tampered while present.
        lane.pass([Self.read(tag, port: 2, rssi: -48, at: 1200), Self.edge(1, true, at: 1500), Self.edge(0, false, at: 1800),
                   Self.seal(.sealed, rssi: -55, at: 1900), Self.edge(1, false, at: 2100),
                   Self.seal([.tampered], rssi: -57, at: 2500), Self.read(tag, port: 1, rssi: -52, at: 2600)], until: 2700)
        lane1 = try #require(lane.lanes(at: 2700).first)
        #expect(lane1.loops.allSatisfy { !$0.occupied }, "both calls ended")
        #expect(lane1.loops[1].sinceSeconds.map { abs($0 - 0.6) < 0.001 } == true, "off since 2100: \(lane1.loops)")
        #expect(lane1.vehicles == 1, "one vehicle, counted on the downstream loop only")
        #expect(lane1.lastVehicle?.loop == "down")
        #expect(lane1.lastVehicle?.speed.map { abs($0 - 10) < 0.01 } == true, "5 m in 0.5 s: \(String(describing: lane1.lastVehicle))")
        #expect(lane1.seals.count == 1 && lane1.seals[0].status == "tampered" && lane1.seals[0].present)
        #expect(lane1.seals[0].rssi == -55, "a status change carries no RSSI; the sighting's stays")

        // Quiet for depart_after: the visit departs with its whole count, peak and antennas.
        lane.pass([], until: 6000)
        lane1 = try #require(lane.lanes(at: 6500).first)
        let visit = try #require(lane1.visits.first)
        #expect(!visit.present && visit.reads == 3 && visit.peakRSSI == -48 && visit.antennas == [1, 2])
        #expect(abs(visit.agoSeconds - 3.9) < 0.001, "since the last read at 2600")
        #expect(lane1.visits.count == 1, "the departure replaced the arrival")
        #expect(!lane1.seals[0].present && lane1.seals[0].status == "tampered", "the seal went quiet too, still tampered")
    }

    @Test func eachLaneKeepsItsOwnRecentVisitsNewestFirst() throws {
        let lane = Lane()
        for i in 0..<20 {
            let hex = "e28011606000020500000" + String(100 + i)
            lane.pass([Self.read(hex, port: 3, rssi: Int8(-40 - i), at: Int64(1000 + i * 2000))], until: Int64(2500 + i * 2000))
        }
        let lanes = lane.lanes(at: 50_000)
        #expect(lanes.count == 2 && lanes[0].visits.isEmpty, "port 3 is lane2's")
        let visits = lanes[1].visits
        #expect(visits.count == LaneActivity.recentPerLane)
        #expect(visits.first?.tag.hasSuffix("119") == true && visits.last?.tag.hasSuffix("112") == true, "\(visits.map(\.tag))")
        #expect(visits.allSatisfy { !$0.present && $0.reads == 1 })
    }

    @Test func faultsAndLostDataBecomeAlerts() throws {
        let lane = Lane()
        lane.pass([Self.edge(2, true, at: 1000)], until: 1500)
        #expect(lane.activity.snapshot(now: at(1500)).alerts.isEmpty)
        lane.pass([], until: 3500)
        var snapshot = lane.activity.snapshot(now: at(3500))
        #expect(snapshot.lanes[1].loops[0].faults == ["max_presence"] && snapshot.lanes[1].loops[0].occupied)
        #expect(snapshot.alerts == ["l2: max_presence"])

        lane.activity.record([.gap(Gap(time: at(3600), reason: .ringOverflow, device: DeviceIndex(0), lost: 12))])
        lane.pass([Self.edge(2, false, at: 3700)], until: 4000)
        snapshot = lane.activity.snapshot(now: at(5600))
        #expect(snapshot.lanes[1].loops[0].faults.isEmpty, "cleared when the call ends")
        #expect(snapshot.alerts == ["data lost: 12 in all, last ring_overflow on rfid 2 s ago"], "\(snapshot.alerts)")
    }

    /// A busy booth — a device lost with a long reason, full lanes, a link down — on 80×24.
    static func busySnapshot(lanes count: Int) -> MonitorSnapshot {
        let devices = [
            MonitorSnapshot.Device(name: "rfid-lane1", kind: "rfid", state: "reading", detail: "M6e Nano firmware 01.0B.01.02 on /dev/lanegate/usb-rfid",
                                   sinceSeconds: 5000, detections: 123_456, errors: 0),
            .init(name: "rfid-lane2", kind: "rfid", state: "lost", detail: "read: the device was unplugged (ENODEV); retrying with backoff up to 30 s",
                  sinceSeconds: 3.2, detections: 99, errors: 17),
            .init(name: "eseal", kind: "eseal", state: "reading", detail: "", sinceSeconds: 70, detections: 5, errors: 0),
            .init(name: "loops", kind: "loops", state: "reading", detail: "gpiochip0 lines 0-3", sinceSeconds: 70, detections: 40, errors: 0),
        ]
        // Read point names carry their lane ("lane1/booth"); under the lane's heading they need not.
        let visits = { (n: Int) in (0..<8).map { (i: Int) -> MonitorSnapshot.Visit in
            let reads: UInt32? = i == 0 ? nil : UInt32(3 + i)
            return MonitorSnapshot.Visit(readPoint: "lane\(n)/booth", tag: "3005fb63ac1f3841ec88046\(i)", present: i == 0, reads: reads,
                                         peakRSSI: -48 - i, antennas: [1, 2], agoSeconds: Double(i) * 7.5)
        } }
        let seals = { (n: Int) in (0..<3).map { (i: Int) -> MonitorSnapshot.Seal in
            MonitorSnapshot.Seal(readPoint: "lane\(n)/booth", seal: "0e1f-00c0ffe\(i)", status: i == 0 ? "tampered|opened" : "sealed",
                                 present: i < 2, rssi: -60, agoSeconds: Double(i))
        } }
        let lanes = (1...count).map { (n: Int) -> MonitorSnapshot.Lane in
            MonitorSnapshot.Lane(name: "lane\(n)", loops: [.init(name: "lane\(n)-up", occupied: true, sinceSeconds: 0.4, faults: []),
                                                          .init(name: "lane\(n)-down", occupied: false, sinceSeconds: 12, faults: n == 2 ? ["max_presence"] : [])],
                                 vehicles: 1234, lastVehicle: .init(loop: "lane\(n)-down", agoSeconds: 12, speed: 9.49, length: 4.2),
                                 visits: visits(n), seals: seals(n))
        }
        return MonitorSnapshot(
            gateway: "booth-7", source: "daemon", devices: devices, lanes: lanes,
            link: .init(collector: "https://collector.example:8443/v1/batches", state: "down",
                        detail: "connection refused (errno: 111) while connecting to collector.example:8443 after 3 attempts",
                        acknowledged: 812, retries: 44, lastAcknowledgedSecondsAgo: 95, latencyMilliseconds: 12),
            spool: .init(batches: 31, events: 900, bytes: 123_456, deadLetters: 0, degraded: nil),
            alerts: ["lane2-down: max_presence", "data lost: 12 in all, last ring_overflow on rfid-lane2 4 s ago"])
    }

    @Test func theScreenFitsEightyByTwentyFourAndSaysWhatMatters() {
        let lines = MonitorScreen(width: 80, height: 24).lines(Self.busySnapshot(lanes: 2))
        let text = lines.joined(separator: "\n")
        #expect(lines.count == 24, "\(text)")
        #expect(lines.allSatisfy { $0.count <= 80 }, "\(text)")
        #expect(lines[0].hasPrefix("lanegate monitor · booth-7 · from the running daemon") && lines[0].hasSuffix("Ctrl-C quits"))
        #expect(lines[1].hasPrefix("collector DOWN · retries 44 · spool 31 batches 123 kB · connection refused")
                && lines[1].hasSuffix("…"), "the spool before the reason, which is cut: \(lines[1])")
        #expect(text.contains(" rfid-lane2   lost      3.2s   99 read 17 bad · read: the device was unplugged"), "\(text)")
        #expect(lines.contains("lane1  up ■ on 0.4s  down □ off 12s  1234 vehicles, last 12s ago 34.2 km/h 4.2 m"), "\(text)")
        #expect(text.contains("lane2  up ■ on 0.4s  down FAULT max_presence 12s"), "\(text)")
        #expect(text.contains("booth    seal 0e1f-00c0ffe0 tampered|opened  -60 dBm here, 0.0s"), "\(text)")
        #expect(text.contains("booth    3005fb63ac1f3841ec880460  -48 dBm  ant 1,2  here 0.0s"), "\(text)")
        #expect(text.contains("3005fb63ac1f3841ec880461  -49 dBm  ant 1,2  4 reads, gone 7.5s"), "\(text)")
        #expect(lines[23].hasPrefix("ALERT lane2-down: max_presence · data lost: 12"))
        for lane in ["lane1", "lane2"] {
            #expect(lines.contains { $0.hasPrefix(lane + "  ") }, "each lane has its header: \(lane)")
        }
    }

    @Test func manyLanesAndAWideTerminal() {
        let six = MonitorScreen(width: 80, height: 24).lines(Self.busySnapshot(lanes: 6))
        #expect(six.count == 24 && six.allSatisfy { $0.count <= 80 }, "\(six.joined(separator: "\n"))")
        #expect((1...6).allSatisfy { n in six.contains { $0.hasPrefix("lane\(n)  ") } }, "every lane's header: \(six.joined(separator: "\n"))")

        let twenty = MonitorScreen(width: 80, height: 24).lines(Self.busySnapshot(lanes: 20))
        #expect(twenty.count == 24 && twenty.allSatisfy { $0.count <= 80 })
        #expect(twenty.filter { $0.hasPrefix("lane") && $0.contains("vehicles") }.count == 16, "\(twenty.joined(separator: "\n"))")
        #expect(twenty[22] == "… 4 more lanes: make the terminal taller", "\(twenty.joined(separator: "\n"))")

        let tall = MonitorScreen(width: 132, height: 60).lines(Self.busySnapshot(lanes: 6))
        #expect(tall.count <= 60 && tall.allSatisfy { $0.count <= 132 })
        #expect((1...6).allSatisfy { n in tall.contains { $0.hasPrefix("lane\(n)  ") } }, "all six fit: \(tall.joined(separator: "\n"))")
    }

    @Test func manyDevicesKeepTheTroubledOnesInView() {
        func screen(errors: Int) -> [String] {
            var snapshot = Self.busySnapshot(lanes: 2)
            snapshot.devices += (1...8).map { n in
                .init(name: "rfid-dock\(n)", kind: "rfid", state: n > 8 - errors ? "error" : "reading", detail: "",
                      sinceSeconds: 1, detections: 0, errors: 0)
            }
            return MonitorScreen(width: 80, height: 24).lines(snapshot)
        }
        // 12 devices, 6 rows for them: the three not reading, then one line for the rest.
        let few = screen(errors: 2)
        #expect(few.count == 24)
        #expect(few[2..<6].map { $0.split(separator: " ").first.map(String.init) ?? "" } == ["rfid-lane2", "rfid-dock7", "rfid-dock8", "9"],
                "\(few.joined(separator: "\n"))")
        #expect(few[5] == " 9 more devices: 9 reading" && few[6].isEmpty)
        // More in trouble than rows: five shown, and the rest still counted as not reading.
        let many = screen(errors: 7)
        #expect(many[2..<7].allSatisfy { $0.contains(" lost ") || $0.contains(" error ") }, "\(many.joined(separator: "\n"))")
        #expect(many[7] == " 7 more devices: 4 reading, 3 not", "\(many.joined(separator: "\n"))")
    }

    @Test func coloursDoNotCountTowardsTheWidth() {
        let lines = MonitorScreen(width: 80, height: 24, color: true).lines(Self.busySnapshot(lanes: 2))
        #expect(lines.contains { $0.contains("\u{1B}[1;31m") }, "faults are red")
        let visible = lines.map { line in
            line.replacing(#/\x1B\[[0-9;]*m/#, with: "")
        }
        #expect(visible == MonitorScreen(width: 80, height: 24).lines(Self.busySnapshot(lanes: 2)))
    }

    @Test func aSnapshotCrossesTheSocketUnchanged() throws {
        let snapshot = Self.busySnapshot(lanes: 2)
        let line = try JSONEncoder().encode(snapshot)
        #expect(!line.contains(UInt8(ascii: "\n")), "one snapshot, one line")
        #expect(try JSONDecoder().decode(MonitorSnapshot.self, from: line) == snapshot)
    }
}

private func at(_ ms: Int64) -> MonotonicInstant { MonotonicInstant(nanoseconds: ms * 1_000_000) }
