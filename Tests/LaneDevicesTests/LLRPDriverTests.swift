import Foundation
import LaneCore
@testable import LaneDevices
import LaneSimulators
import Testing

@Suite("LLRP client over TCP", .serialized)
struct LLRPDriverTests {
    static func driver(_ port: UInt16, keepalive: Nanoseconds = .milliseconds(300)) -> LLRPClientDriver {
        var settings = LLRPClientSettings(host: "127.0.0.1")
        settings.port = port
        settings.keepalivePeriod = keepalive
        settings.responseTimeout = .seconds(2)
        return LLRPClientDriver(settings: settings)
    }

    @Test func connectionFlowThenTagReports() async throws {
        let reader = try LLRPReaderSimulator()
        defer { reader.stop() }
        let harness = DriverHarness(Self.driver(reader.port))
        defer { harness.stop() }
        #expect(await harness.wait { $0.states.last == .reading })
        #expect(harness.changes.first { $0.state == .configured }?.detail.contains("firmware 7.5.0-sim, 4 antennas") == true)
        #expect(reader.counts.started == 1)
        for i in 0..<10 { reader.read(epc(i), antenna: UInt16(1 + i % 4), rssi: Int8(-50 - i)) }
        #expect(await harness.wait { $0.tagReads.count == 10 })
        #expect(harness.states.last == .reading)
        #expect(harness.tagReads.map(\.tag) == (0..<10).map(epc))
        #expect(harness.tagReads.map(\.antenna) == (0..<10).map { (i: Int) -> UInt8 in UInt8(1 + i % 4) })
        #expect(harness.tagReads.map(\.rssi) == (0..<10).map { (i: Int) -> Int8 in Int8(-50 - i) })
        #expect(await harness.wait { _ in reader.counts.keepaliveAcks >= 2 }, "every keepalive is acknowledged")
    }

    @Test func aReaderClockDecadesOffIsMappedOntoOurs() async throws {
        let twentyFiveYears: Int64 = -25 * 365 * 86400 * 1_000_000
        let reader = try LLRPReaderSimulator(clockOffsetMicros: twentyFiveYears)
        defer { reader.stop() }
        let harness = DriverHarness(Self.driver(reader.port))
        defer { harness.stop() }
        #expect(await harness.wait { $0.states.last == .reading })
        let placed = MonotonicInstant.now()
        reader.read(epc(1), antenna: 1, rssi: -50, at: placed)
        #expect(await harness.wait { $0.tagReads.count == 1 })
        #expect(harness.changes.last?.detail.contains("reader clock behind UTC by 24 years") == true)
        let time = try #require(harness.detections.first?.time)
        #expect(time <= .now())
        #expect(abs(time.since(placed)) < .milliseconds(500))
    }

    @Test func aDeadLinkIsDetectedFromMissedKeepalivesAndReconnected() async throws {
        let reader = try LLRPReaderSimulator()
        defer { reader.stop() }
        let harness = DriverHarness(Self.driver(reader.port))
        defer { harness.stop() }
        #expect(await harness.wait { $0.states.last == .reading })
        let before = harness.changes.count
        reader.hang(true)
        // The retry starts 0.5 s after the loss, so a busy test thread may first see later states.
        #expect(await harness.wait(seconds: 5) { $0.states.dropFirst(before).contains(.lost) })
        let lost = harness.changes.dropFirst(before).first { $0.state == .lost }
        #expect(lost?.detail.contains("no keepalive or report") == true, "\(harness.changes.dropFirst(before))")
        reader.hang(false)
        reader.dropClient()
        #expect(await harness.wait(seconds: 8) { $0.states.last == .reading && reader.counts.connections >= 2 })
        // "reading" may still be the session the drop ends; reads flow once the next one is up.
        var delivered = false
        for _ in 0..<40 where !delivered {
            reader.read(epc(5), antenna: 1, rssi: -50)
            delivered = await harness.wait(seconds: 0.25) { !$0.tagReads.isEmpty }
        }
        #expect(delivered, "reads flow again after the reconnect")
    }

    @Test func aReaderHeldByAnotherClientIsReportedAndRetried() async throws {
        let reader = try LLRPReaderSimulator()
        defer { reader.stop() }
        let first = DriverHarness(Self.driver(reader.port))
        #expect(await first.wait { $0.states.last == .reading })
        let second = DriverHarness(Self.driver(reader.port))
        #expect(await second.wait { $0.states.last == .error })
        #expect(second.changes.last?.detail.contains("another client holds it") == true)
        first.stop()
        #expect(await second.wait(seconds: 8) { $0.states.last == .reading })
        second.stop()
        #expect(reader.counts.refused >= 1)
    }

    @Test func aReaderThatIsNotThereIsLost() async throws {
        let listener = try TCPListener()
        let port = listener.port
        _ = consume listener  // the port is now closed: connection refused
        let harness = DriverHarness(Self.driver(port))
        defer { harness.stop() }
        #expect(await harness.wait { $0.states.last == .lost })
        #expect(harness.changes.last?.detail.contains("connection refused") == true)
    }
}

extension LLRPDriverTests {
    /// A reader (or emulator) that answers the cleanup step with an error, speaks LLRP 1.1
    /// headers, sends reader events before its responses and refuses a second start: the
    /// client passes over the cleanup error, starts its ROSpec exactly once, and reads.
    @Test func aQuirkyReaderIsStillRead() async throws {
        var quirks = LLRPReaderSimulator.Quirks()
        quirks.deleteAllWhenEmpty = 100
        quirks.version = 2
        quirks.eventsBeforeResponses = true
        quirks.strictStart = true
        let reader = try LLRPReaderSimulator(quirks: quirks)
        defer { reader.stop() }
        let harness = DriverHarness(Self.driver(reader.port))
        defer { harness.stop() }
        #expect(await harness.wait { $0.states.last == .reading }, "\(harness.changes)")
        #expect(harness.changes.contains { $0.detail.contains("DELETE_ROSPEC (all) with LLRP status 100 no ROSpec 0: nothing to clear") })
        #expect(reader.counts.startTrigger == 0, "a Null start trigger: START_ROSPEC alone starts it")
        #expect(reader.counts.started == 1)
        #expect(reader.counts.connections == 1, "no reconnects")
        reader.read(epc(3), antenna: 2, rssi: -61)
        #expect(await harness.wait { $0.tagReads.count == 1 })
        #expect(harness.tagReads.first?.tag == epc(3))
    }

    /// A stop ends the session with CLOSE_CONNECTION, and so does a failure after the reader
    /// admitted the client; a reader that announces its own close is not sent one.
    @Test func sessionsEndWithTheCloseConnectionExchange() async throws {
        let reader = try LLRPReaderSimulator()
        defer { reader.stop() }
        let harness = DriverHarness(Self.driver(reader.port))
        #expect(await harness.wait { $0.states.last == .reading })
        harness.stop()
        #expect(reader.counts.received.last == 14, "CLOSE_CONNECTION last: \(reader.counts.received)")

        var quirks = LLRPReaderSimulator.Quirks()
        quirks.refusing = [24]  // ENABLE_ROSPEC
        let refusing = try LLRPReaderSimulator(quirks: quirks)
        defer { refusing.stop() }
        let failing = DriverHarness(Self.driver(refusing.port))
        #expect(await failing.wait { $0.states.last == .error })
        failing.stop()
        #expect(failing.changes.last { $0.state == .error }?.detail.contains("LLRP status 101") == true)
        let afterEnable = refusing.counts.received.drop { $0 != 24 }.dropFirst()
        #expect(afterEnable.first == 14, "the failed session still said goodbye: \(refusing.counts.received)")

        let closing = try LLRPReaderSimulator()
        defer { closing.stop() }
        let dropped = DriverHarness(Self.driver(closing.port))
        defer { dropped.stop() }
        #expect(await dropped.wait { $0.states.last == .reading })
        let sent = closing.counts.received.count
        closing.closeClient()
        #expect(await dropped.wait { $0.changes.contains { $0.state == .lost && $0.detail.contains("ConnectionCloseEvent") } })
        #expect(await dropped.wait(seconds: 8) { $0.states.last == .reading && closing.counts.connections >= 2 })
        #expect(!closing.counts.received.dropFirst(sent).prefix { $0 != 1 }.contains(14),
                "no CLOSE_CONNECTION to a reader that closed first: \(closing.counts.received)")
    }
}
