import Foundation
import LaneCore
@testable import LaneDevices
import LaneSimulators
import LaneTestSupport
import Testing

@Suite("E-seal receiver driver over a pty", .serialized)
struct ESealDriverTests {
    static func driver(_ path: String) -> ESealReceiverDriver {
        var settings = ESealReceiverSettings()
        settings.heartbeatTimeout = .seconds(3)
        return ESealReceiverDriver(settings: settings) { baud throws(LinkError) in try TTYLink(path: path, baud: baud) }
    }

    @Test func setsTheClockThenForwardsSealReports() async throws {
        let path = temporaryDirectory() + "/eseal"
        let receiver = try ESealReceiverSimulator(link: path)
        defer { receiver.stop() }
        let before = UInt32(Date().timeIntervalSince1970)
        let harness = DriverHarness(Self.driver(path))
        defer { harness.stop() }
        #expect(await harness.wait { $0.states.last == .reading })
        #expect(harness.changes.last?.detail.contains("firmware 1.4") == true)
        let after = UInt32(Date().timeIntervalSince1970) + 1
        #expect(receiver.clock.map { (before...after).contains($0) } == true, "set to the host's clock at connect")
        #expect(receiver.counts.statusRequests == 1)

        let seal = SealID(manufacturer: 0x0E1F, tag: 0xC0FFEE)
        receiver.hear(SealReport(seal: seal, status: .sealed, eventCount: 1, eventTime: 1_763_900_000, rssi: -62, antenna: 1))
        receiver.hear(SealReport(seal: seal, status: [.tampered, .opened], eventCount: 2, eventTime: 1_763_900_100, rssi: -61, antenna: 1))
        #expect(await harness.wait { $0.sealReports.count == 2 })
        #expect(harness.sealReports.map(\.status) == [.sealed, [.tampered, .opened]])
        #expect(harness.sealReports.last?.eventCount == 2)
        #expect(harness.sealReports.last?.seal == seal)
    }

    @Test func aSilentReceiverIsReportedGoneAndReconnected() async throws {
        let path = temporaryDirectory() + "/eseal"
        let receiver = try ESealReceiverSimulator(link: path)
        defer { receiver.stop() }
        let harness = DriverHarness(Self.driver(path))
        defer { harness.stop() }
        #expect(await harness.wait { $0.states.last == .reading })
        receiver.hang(true)
        #expect(await harness.wait(seconds: 6) { $0.states.last == .lost })
        #expect(harness.changes.last?.detail.contains("no heartbeat") == true)
        receiver.hang(false)
        #expect(await harness.wait(seconds: 6) { $0.states.last == .reading })
        #expect(await harness.wait(seconds: 20) { _ in receiver.counts.timeSets >= 2 },
                "the clock is set again on every connect: \(receiver.counts), states \(harness.states)")
    }

    /// Bytes that only look like the start of a frame (a header claiming 255 bytes, as the echo
    /// of a heartbeat can before the driver sets raw mode) must not swallow the driver's frames
    /// behind them: the receiver gives up a partial frame once the line goes quiet.
    @Test func aBogusHeaderDoesNotSwallowTheFramesBehindIt() async throws {
        let path = temporaryDirectory() + "/eseal"
        let receiver = try ESealReceiverSimulator(link: path)
        defer { receiver.stop() }
        let link = try TTYLink(path: path, baud: 115_200)
        defer { link.close() }
        try link.write([0xAA, 0x55, 0xFF, 0x02] + ESealFrame.setTime(utcSeconds: 1_763_900_000).bytes + ESealFrame.getStatus.bytes)
        #expect(await waitUntil { receiver.counts.timeSets == 1 && receiver.counts.statusRequests == 1 }, "\(receiver.counts)")
        #expect(receiver.clock == 1_763_900_000)
    }

    @Test func receiverErrorsAndGarbageAreReportedAndCounted() async throws {
        let path = temporaryDirectory() + "/eseal"
        let receiver = try ESealReceiverSimulator(link: path)
        defer { receiver.stop() }
        let harness = DriverHarness(Self.driver(path))
        defer { harness.stop() }
        #expect(await harness.wait { $0.states.last == .reading })
        let before = harness.changes.count
        receiver.babble([0xAA, 0x55, 0x00, 0x12, 0xAA, 0x55, 0x03, 0x01, 0x02, 0x03, 0x04, 0x05])
        receiver.fail(code: 1)
        // Among the changes since, not the last one: on a loaded machine the next heartbeat can
        // follow the fault before this looks.
        #expect(await harness.wait { $0.changes.dropFirst(before).contains { $0.state == .error } })
        #expect(harness.changes.dropFirst(before).first { $0.state == .error }?.detail == "receiver reports radio fault")
        // The next heartbeat shows it working again.
        #expect(await harness.wait { $0.states.last == .reading })
        let counts = harness.counters.snapshot
        #expect(counts.deviceErrors == 1)
        #expect(counts.garbageBytes + counts.crcErrors + counts.oversizedFrames > 0)
    }
}

extension ESealDriverTests {
    /// A receiver that was already talking before the port was opened and set to raw mode:
    /// what the default line discipline made of its heartbeats is discarded, not counted as
    /// bad frames that a technician would read as a hardware fault.
    @Test func bytesFromBeforeThePortWasSetUpAreNotBadFrames() async throws {
        let path = temporaryDirectory() + "/eseal"
        let receiver = try ESealReceiverSimulator(link: path)
        defer { receiver.stop() }
        #expect(await waitUntil { receiver.counts.heartbeats >= 2 }, "the receiver talked before anyone listened")
        let harness = DriverHarness(Self.driver(path))
        defer { harness.stop() }
        #expect(await harness.wait { $0.states.last == .reading })
        #expect(await harness.wait { _ in receiver.counts.heartbeats >= 4 }, "a few heartbeats read since")
        let counts = harness.counters.snapshot
        #expect(counts.garbageBytes == 0 && counts.crcErrors == 0 && counts.truncatedFrames == 0 && counts.badRecords == 0,
                "\(counts)")
    }

    private func waitUntil(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<500 where !condition() { try? await Task.sleep(for: .milliseconds(10)) }
        return condition()
    }
}
