import Foundation
import LaneCollector
import LaneCore
import LaneSimulators
import Testing
import LaneCollectorTestSupport
import LaneTestSupport

/// The daemon on real kernel interfaces: `lanegate run` (release build) in a QEMU guest reads a
/// Mercury reader and an e-seal receiver through libusb on emulated FTDI adapters, and two speed
/// traps through libgpiod on a gpio-sim chip, as user lanegate with the project's udev rules. The
/// device side is the project's simulators on the host; the collector is the real one on the
/// host's loopback. Run by Tests/HIL/run.sh, which builds the guest and sets LANEGATE_HIL.
@Suite("Hardware in the loop", .serialized, .enabled(if: HIL.artifacts != nil, "needs the guest: bash Tests/HIL/run.sh"))
struct HardwareInTheLoopTests {
    @Test func boothOnRealUSBAndGPIOThroughHotplugAndPowerCut() async throws {
        let dir = temporaryDirectory()
        let guest = try GuestMachine(artifacts: HIL.artifacts!, directory: dir)
        defer { guest.shutdown() }
        let reader = MercuryReaderSimulator(line: UnixSocketLine(path: guest.rfidSocket))
        let receiver = ESealReceiverSimulator(line: UnixSocketLine(path: guest.esealSocket))
        defer {
            reader.stop()
            receiver.stop()
        }
        let booth = Booth(guest: guest, reader: reader, receiver: receiver)
        let storePath = dir + "/collector.db"
        let expected = Expectations()

        do {
            try await withCollector(store: SQLiteEventStore(path: storePath)) { url, _ in
                try await guest.boot(collectorPort: HIL.port(of: url), token: tokenHIL)
                HIL.log("guest booted (console: \(guest.consoleLog))")
                try await checkPermissions(guest)
                let view = CollectorView(url: url)
                try #require(await view.waitFor("all three devices reading", timeout: 90) { events in
                    ["rfid", "eseal", "loops"].allSatisfy { device in events.last(type: "device_status", device: device)?["state"] == "reading" }
                }, "devices did not come up:\n\(guest.console(tail: 30))")

                // Traffic through both lanes: tags, speed traps, a seal tampered with.
                for (i, trap) in [(1, 0.40), (2, 0.50), (1, 0.32), (2, 0.80)].enumerated() {
                    try await booth.vehicle(lane: trap.0, gap: trap.1, tag: HIL.tag(i), expected: expected)
                }
                try await booth.tamper(seal: 0xA11CE, antenna: 1, expected: expected)
                try await view.expectDelivered(expected, "traffic through both lanes")
                try await expectCleanLines(guest)
                try await watchWithMonitor(guest)

                // Hotplug: the reader leaves the bus and comes back; the rest keeps working.
                let before = try await view.events().count
                let deleted = try await guest.qmp(#"{"execute":"device_del","arguments":{"id":"rfid"}}"#)
                #expect(!deleted.contains("error"), "device_del: \(deleted)")
                #expect(await view.waitFor("the reader reported lost", timeout: 30) { events in
                    events.dropFirst(before).contains { $0["type"] == "device_status" && $0["device"] == "rfid" && $0["state"] != "reading" }
                })
                try await booth.vehicle(lane: 2, gap: 0.45, tag: nil, expected: expected)
                try await booth.tamper(seal: 0xB0B, antenna: 2, expected: expected)
                try await view.expectDelivered(expected, "loops and e-seals while the reader is unplugged")
                let added = try await guest.qmp(#"{"execute":"device_add","arguments":{"driver":"usb-serial","id":"rfid","bus":"xhci.0","chardev":"rfid0","always-plugged":true,"serial":"\#(GuestMachine.rfidSerial)"}}"#)
                #expect(!added.contains("error"), "device_add: \(added)")
                #expect(await view.waitFor("the reader reading again", timeout: 60) { events in
                    events.dropFirst(before).last(type: "device_status", device: "rfid")?["state"] == "reading"
                }, "no reconnect:\n\(guest.console(tail: 30))")
                try await booth.vehicle(lane: 1, gap: 0.40, tag: HIL.tag(10), expected: expected)
                try await view.expectDelivered(expected, "tags after the reader was plugged back")
            }

            // Power cut: with the collector unreachable, batches wait in the guest's spool; the
            // machine dies mid-stream and boots again from the same disk.
            for (i, trap) in [(1, 0.40), (2, 0.36)].enumerated() {
                try await booth.vehicle(lane: trap.0, gap: trap.1, tag: HIL.tag(20 + i), expected: expected)
            }
            try await booth.tamper(seal: 0xCAB, antenna: 2, expected: expected)
            try await Task.sleep(for: .seconds(4))  // visits depart (1 s) and their batch commits (1 s window)
            let spooled = try await guest.run("wget -qO- http://127.0.0.1:9464/metrics | grep '^lanegate_spool_batches '").output
            HIL.log("collector down; the guest's spool holds: \(spooled)")
            let inFlight = Task {
                for _ in 0..<20 { reader.read(HIL.tag(99), antenna: 3, rssi: -50); try await Task.sleep(for: .milliseconds(100)) }
            }
            try await Task.sleep(for: .milliseconds(1200))
            guest.powerCut()
            inFlight.cancel()
            HIL.log("power cut while tag reads were streaming")

            try await withCollector(store: SQLiteEventStore(path: storePath)) { url, _ in
                try await guest.boot(collectorPort: HIL.port(of: url), token: tokenHIL)
                HIL.log("booted again from the same spool disk")
                let view = CollectorView(url: url)
                try await view.expectDelivered(expected, "everything committed before the power cut", timeout: 120)
                #expect(try await spoolDrains(guest), "the guest's spool empties once the collector acknowledges")
                try await view.expectExactlyOnce(expected)
                let cutShort = try await view.events().filter { $0["tag"] == HIL.tag(99).hex && $0["type"] == "tag_arrived" }
                #expect(cutShort.count <= 1, "the visit the power cut interrupted arrived at most once: \(cutShort)")
                // The power cut itself is reported, once: a power_loss gap of unknown size (lost 0),
                // since the last second's journal may not have reached the disk. No other gap.
                let gaps = try await view.events().filter { $0["type"] == "gap" }
                #expect(gaps.count == 1 && gaps.first?["reason"] == "power_loss" && gaps.first?["lost"] == "0", "\(gaps)")
                let gateways = try await get(url + "/v1/gateways").1
                #expect(gateways.contains("\"gap_events\":1") && gateways.contains("\"lost_reported\":0"), "\(gateways)")
                HIL.log("gateway at the collector: \(gateways.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        } catch {
            Issue.record("\(error)\nguest console:\n\(guest.console(tail: 60))")
        }
    }

    private func spoolDrains(_ guest: GuestMachine) async throws -> Bool {
        for _ in 0..<60 {
            let spool = try await guest.run("wget -qO- http://127.0.0.1:9464/metrics | grep '^lanegate_spool_batches '").output
            if spool.split(separator: " ").last.flatMap({ Double($0) }) == 0 { return true }
            try await Task.sleep(for: .seconds(1))
        }
        return false
    }

    /// On lines nothing disturbed, every byte from the adapters decodes: no garbage, CRC or
    /// framing errors (a byte lost or kept wrongly in the USB path would show here first).
    private func expectCleanLines(_ guest: GuestMachine) async throws {
        let metrics = try await guest.run("wget -qO- http://127.0.0.1:9464/metrics | grep -E '^lanegate_device_(errors|frames)_total'").output
        let lines = metrics.split(separator: "\n")
        let errors = lines.filter { $0.hasPrefix("lanegate_device_errors_total") && !$0.hasSuffix(" 0") && !$0.hasSuffix(" 0.0") }
        #expect(errors.isEmpty, "input thrown away on undisturbed lines: \(errors)")
        let frames = lines.filter { $0.hasPrefix("lanegate_device_frames_total") && !$0.contains("\"loops\"") }
        #expect(frames.count == 2 && frames.allSatisfy { !$0.hasSuffix(" 0") && !$0.hasSuffix(" 0.0") }, "frames decoded: \(frames)")
        HIL.log("USB lines: \(frames.joined(separator: ", ")); device errors: \(errors.isEmpty ? "none" : errors.joined(separator: ", "))")
    }

    /// `lanegate monitor`, run in the guest by a member of group lanegate, shows a loop switch
    /// on and off on the real GPIO path, every device reading, and the visits just made.
    private func watchWithMonitor(_ guest: GuestMachine) async throws {
        let socket = try await guest.run("stat -c '%U:%G %a' /run/lanegate/monitor.sock")
        #expect(socket.output == "lanegate:lanegate 660", "the monitor socket: \(socket.output)")
        /// The monitor's frame once it shows `text`, or the last one after 5 s.
        func frame(showing text: String) async throws -> String {
            var frame = ""
            for _ in 0..<10 where !frame.contains(text) {
                try await Task.sleep(for: .milliseconds(500))
                frame = try await guest.run("su -s /bin/sh lanegate -c '/usr/bin/lanegate monitor --once'").output
            }
            return frame
        }
        // A vehicle standing on lane 1's upstream loop (far longer ago than any trap's travel
        // time when the next one comes, so it matches no speed).
        _ = try await guest.run("pull 0 pull-up")
        let on = try await frame(showing: "lane1  loop-a ■ on")
        #expect(on.contains("hil-booth · from the running daemon"), "\(on)")
        #expect(on.contains("lane1  loop-a ■ on") && on.contains("lane2  loop-a □ off"), "the loop's call: \(on)")
        for device in ["rfid", "eseal", "loops"] {
            #expect(on.contains(" " + device.padding(toLength: 12, withPad: " ", startingAt: 0) + " reading"), "\(device): \(on)")
        }
        #expect(on.contains("collector up"), "\(on)")
        #expect(on.contains(HIL.tag(2).hex) && on.contains("5 reads, gone"), "lane 1's last visit: \(on)")
        _ = try await guest.run("pull 0 pull-down")
        let off = try await frame(showing: "lane1  loop-a □ off")
        #expect(off.contains("lane1  loop-a □ off"), "the call ended: \(off)")
        HIL.log("lanegate monitor in the guest, a vehicle on lane 1's loop-a:\n\(on)")
    }

    /// The daemon runs as lanegate and reaches its devices through the project's udev rules; the
    /// kernel's own default for a USB node without a rule keeps that user out.
    private func checkPermissions(_ guest: GuestMachine) async throws {
        let user = try await guest.run("stat -c %U:%G /proc/$(pidof lanegate)")
        #expect(user.output == "lanegate:lanegate", "the daemon's user: \(user.output)")
        for node in ["/dev/lanegate/usb-rfid", "/dev/lanegate/usb-eseal", "/dev/gpiochip0"] {
            let mode = try await guest.run("stat -L -c '%G %a' \(node)")
            #expect(mode.output == "lanegate 660", "\(node): \(mode.output)")
        }
        let hub = try await guest.run("su -s /bin/sh lanegate -c 'test -w /dev/bus/usb/001/001'")
        #expect(hub.status != 0, "a USB node without a rule is closed to the daemon's user")
        let devices = try await guest.run("su -s /bin/sh lanegate -c '/usr/bin/lanegate devices --config /etc/lanegate/lanegate.toml'")
        #expect(devices.output.contains(GuestMachine.rfidSerial) && devices.output.contains(GuestMachine.esealSerial),
                "lanegate devices lists both adapters: \(devices.output)")
        // Tests/HIL/run.sh builds against libgpiod 2 when LANEGATE_HIL_GPIOD=2.
        let gpiod = ProcessInfo.processInfo.environment["LANEGATE_HIL_GPIOD"] ?? "1"
        #expect(devices.output.contains("GPIO chips (libgpiod \(gpiod) API):\n  gpiochip0 "),
                "lanegate devices lists the gpio-sim chip through libgpiod \(gpiod): \(devices.output)")
        HIL.log("permissions: daemon runs as \(user.output); its nodes are group lanegate 0660; `lanegate devices` says:\n\(devices.output)")
    }
}

/// What the host does to the booth: drives a speed trap in the guest and reads the vehicle's tag
/// on the lane's antennas, or has a seal report a tamper.
struct Booth: Sendable {
    let guest: GuestMachine
    let reader: MercuryReaderSimulator
    let receiver: ESealReceiverSimulator
    static let spacing = 4.0  // metres between a trap's loops (the guest config)

    func vehicle(lane: Int, gap: Double, tag: TagID?, expected: Expectations) async throws {
        let (a, b) = lane == 1 ? (0, 1) : (2, 3)
        let started = try await guest.run("vehicle \(a) \(b) \(gap) 1.0 >/dev/null 2>&1 &")
        try #require(started.status == 0)
        if let tag {
            for _ in 0..<5 {
                reader.read(tag, antenna: lane == 1 ? 1 : 3, rssi: -52)
                try await Task.sleep(for: .milliseconds(100))
            }
            expected.tags.append((tag.hex, "lane\(lane)/booth"))
        }
        try await Task.sleep(for: .milliseconds(Int64((2 * gap + 1.0) * 1000) + 600))
        let made = try await guest.run("tail -n 1 /tmp/traps.log").output.split(separator: " ").compactMap { Double($0) }
        try #require(made.count == 4, "the guest's trap log: \(made)")
        // The slowest and fastest speeds the edges' bracketed times allow.
        expected.speeds.append(Self.spacing / (made[3] / 1e9)...Self.spacing / (made[2] / 1e9))
    }

    func tamper(seal tag: UInt32, antenna: UInt8, expected: Expectations) async throws {
        let seal = SealID(manufacturer: 0x0E1F, tag: tag)
        receiver.hear(SealReport(seal: seal, status: .sealed, eventCount: 1, eventTime: 1_763_900_000, rssi: -60, antenna: antenna))
        try await Task.sleep(for: .milliseconds(300))
        receiver.hear(SealReport(seal: seal, status: [.tampered, .opened], eventCount: 2, eventTime: 1_763_900_100, rssi: -60, antenna: antenna))
        expected.tampers.append(seal.description)
    }
}

/// What the collector must end up holding; the test adds to it as it drives the booth.
final class Expectations: @unchecked Sendable {
    var tags: [(tag: String, readPoint: String)] = []
    var speeds: [ClosedRange<Double>] = []
    var tampers: [String] = []
}

/// The collector's stored events for the guest's gateway, as flat string fields.
struct CollectorView {
    let url: String
    /// Speeds travel rounded to 0.01 m/s.
    static let speedRounding = 0.005

    func events() async throws -> [[String: String]] {
        var all: [[String: String]] = []
        var after = 0
        while true {
            let (status, body) = try await get(url + "/v1/events?gateway=hil-booth&limit=1000&after=\(after)")
            guard status == 200, let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
                  let page = object["events"] as? [[String: Any]] else { throw GuestError("events query failed: \(status) \(body.prefix(200))") }
            all += page.map { $0.mapValues { "\($0)" } }
            guard page.count == 1000, let next = object["next_after"] as? Int else { return all }
            after = next
        }
    }

    func waitFor(_ what: String, timeout: Double, _ condition: ([[String: String]]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let events = try? await events(), condition(events) {
                HIL.log("seen: \(what)")
                return true
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
        HIL.log("NOT seen in \(Int(timeout)) s: \(what)")
        return false
    }

    /// Every expected visit (with all 5 reads), vehicle speed and tamper has arrived.
    func expectDelivered(_ expected: Expectations, _ what: String, timeout: Double = 60) async throws {
        let complete = await waitFor(what, timeout: timeout) { events in
            expected.tags.allSatisfy { tag in events.contains { $0["type"] == "tag_departed" && $0["tag"] == tag.tag } }
                && events.filter { $0["speed_mps"] != nil }.count >= expected.speeds.count
                && expected.tampers.allSatisfy { seal in events.contains { $0["type"] == "seal_changed" && $0["seal"] == seal } }
        }
        let events = try await events()
        let visits = events.filter { $0["type"] == "tag_departed" }.count, vehicles = events.filter { $0["speed_mps"] != nil }.count
        let tampers = events.filter { $0["type"] == "seal_changed" }.count
        try #require(complete, """
            \(what): the collector has \(visits) visits, \(vehicles) trap vehicles, \(tampers) seal changes; \
            expected \(expected.tags.count), \(expected.speeds.count), \(expected.tampers.count)
            """)
        for tag in expected.tags {
            let visit = events.first { $0["type"] == "tag_departed" && $0["tag"] == tag.tag }
            #expect(visit?["reads"] == "5" && visit?["read_point"] == tag.readPoint, "visit of \(tag.tag): \(visit ?? [:])")
        }
        let speeds = events.filter { $0["speed_mps"] != nil }.sorted { Int64($0["on_ns"]!)! < Int64($1["on_ns"]!)! }.map { Double($0["speed_mps"]!)! }
        for (measured, made) in zip(speeds, expected.speeds) {
            #expect(made.lowerBound - Self.speedRounding <= measured && measured <= made.upperBound + Self.speedRounding,
                    "speed \(measured) m/s from the kernel's edge times; the guest's pulls allow \(made)")
        }
        HIL.log("\(what): \(expected.tags.count) visits, \(expected.tampers.count) tampers; speeds in m/s (the range the guest's pulls allow): "
                + zip(speeds, expected.speeds).map { String(format: "%.2f (%.3f–%.3f)", $0, $1.lowerBound, $1.upperBound) }.joined(separator: " "))
    }

    /// No event arrived twice: each visit, tamper and vehicle once.
    func expectExactlyOnce(_ expected: Expectations) async throws {
        let events = try await events()
        for tag in expected.tags {
            #expect(events.filter { $0["type"] == "tag_departed" && $0["tag"] == tag.tag }.count == 1, "one departure of \(tag.tag)")
        }
        for seal in expected.tampers {
            #expect(events.filter { $0["type"] == "seal_changed" && $0["seal"] == seal && $0["status"]?.contains("tampered") == true }.count == 1,
                    "one tamper of \(seal)")
        }
        let vehicles = events.filter { $0["speed_mps"] != nil }
        #expect(vehicles.count == expected.speeds.count, "\(vehicles.count) trap vehicles stored, \(expected.speeds.count) driven")
        HIL.log("exactly once: \(expected.tags.count) visits, \(expected.tampers.count) tampers, \(vehicles.count) trap vehicles, \(events.count) events in all")
    }
}

extension BidirectionalCollection<[String: String]> {
    func last(type: String, device: String) -> [String: String]? {
        last { $0["type"] == type && $0["device"] == device }
    }
}

enum HIL {
    /// The directory Tests/HIL/build-guest.sh filled (vmlinuz, initrd.gz, spool.img).
    static let artifacts = ProcessInfo.processInfo.environment["LANEGATE_HIL"]

    static func tag(_ i: Int) -> TagID { TagID(hex: String(format: "e28011606000020000%06x", i))! }

    static func port(of url: String) -> Int { Int(url.split(separator: ":").last!)! }

    static func log(_ line: String) { print("hil: \(line)") }
}
