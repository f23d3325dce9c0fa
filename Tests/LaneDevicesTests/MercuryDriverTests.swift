import Foundation
import LaneCore
@testable import LaneDevices
import LaneSimulators
import LaneTestSupport
import Testing

/// The production Mercury driver against the reader simulator over a real pty.
@Suite("Mercury driver over a pty", .serialized)
struct MercuryDriverTests {
    static func driver(_ path: String, _ configure: (inout MercuryReaderSettings) -> Void = { _ in }) -> MercuryReaderDriver {
        var settings = MercuryReaderSettings()
        settings.antennas = [1, 2]
        settings.onTimeMilliseconds = 50
        settings.silenceTimeout = .seconds(1)
        configure(&settings)
        return MercuryReaderDriver(settings: settings) { baud throws(LinkError) in try TTYLink(path: path, baud: baud) }
    }

    @Test func connectsConfiguresAndStreamsTagsWithMetadata() async throws {
        let path = temporaryDirectory() + "/rfid"
        let reader = try MercuryReaderSimulator(link: path)
        defer { reader.stop() }
        let harness = DriverHarness(Self.driver(path))
        defer { harness.stop() }
        #expect(await harness.wait { $0.states.last == .reading })
        #expect(harness.states == [.connected, .configured, .reading])
        #expect(harness.changes[1].detail.contains("M6e Nano firmware 01.0B.01.02 at 115200 baud"))

        let before = MonotonicInstant.now()
        for i in 0..<20 { reader.read(epc(i), antenna: UInt8(1 + i % 2), rssi: Int8(-40 - i)) }
        #expect(await harness.wait { $0.tagReads.count == 20 })
        let reads = harness.tagReads
        #expect(reads.map(\.tag) == (0..<20).map(epc))
        #expect(reads.map(\.antenna) == (0..<20).map { (i: Int) -> UInt8 in UInt8(1 + i % 2) })
        #expect(reads.map(\.rssi) == (0..<20).map { (i: Int) -> Int8 in Int8(-40 - i) })
        // Stamped by the reader's clock, mapped to ours: not before the reads were placed, not in the future.
        for detection in harness.detections {
            #expect(detection.time >= before.advanced(by: -.milliseconds(5)))
            #expect(detection.time <= .now())
        }
        #expect(harness.counters.snapshot.crcErrors == 0)
        #expect(reader.counts.searches == 1)
    }

    @Test func findsTheBaudByProbingAndBootsTheApplication() async throws {
        let path = temporaryDirectory() + "/rfid"
        var options = MercuryReaderSimulator.Options()
        options.baud = 57600
        options.startsInBootloader = true
        let reader = try MercuryReaderSimulator(link: path, options: options)
        defer { reader.stop() }
        let harness = DriverHarness(Self.driver(path))
        defer { harness.stop() }
        #expect(await harness.wait { $0.states.last == .reading })
        #expect(harness.changes.first { $0.state == .configured }?.detail.contains("at 57600 baud") == true)
        #expect(reader.counts.ignoredAtWrongBaud > 0)
        reader.read(epc(1), antenna: 2, rssi: -50)
        #expect(await harness.wait { $0.tagReads.count == 1 })
    }

    @Test func stopsAReaderLeftStreamingAndWorksWithoutResponseCRCs() async throws {
        let path = temporaryDirectory() + "/rfid"
        var options = MercuryReaderSimulator.Options()
        options.streamingAtPowerUp = true
        let reader = try MercuryReaderSimulator(link: path, options: options)
        defer { reader.stop() }
        let harness = DriverHarness(Self.driver(path) { $0.responseCRC = false })
        defer { harness.stop() }
        #expect(await harness.wait { $0.states.last == .reading }, "\(harness.changes)")
        reader.read(epc(7), antenna: 1, rssi: -55)
        #expect(await harness.wait { $0.tagReads.count == 1 })
        #expect(harness.tagReads.first?.tag == epc(7))
        #expect(harness.counters.snapshot.crcErrors == 0)
    }

    /// A module keeps its CRC setting until power-off. One that an earlier session left without
    /// response CRCs, and then failed or was killed, used to be lost for good: every reply failed
    /// its CRC at every baud. It is found again and set back as configured.
    @Test(arguments: [true, false])
    func aReaderLeftWithoutCRCsByAnEarlierSessionIsFoundAgain(responseCRC: Bool) async throws {
        let path = temporaryDirectory() + "/rfid"
        var options = MercuryReaderSimulator.Options()
        options.responseCRC = false
        let reader = try MercuryReaderSimulator(link: path, options: options)
        defer { reader.stop() }
        let harness = DriverHarness(Self.driver(path) { $0.responseCRC = responseCRC })
        defer { harness.stop() }
        #expect(await harness.wait { $0.states.last == .reading }, "\(harness.changes)")
        #expect(reader.sendsResponseCRC == responseCRC)
        reader.read(epc(9), antenna: 1, rssi: -50)
        #expect(await harness.wait { $0.tagReads.count == 1 })
        #expect(harness.tagReads.first?.tag == epc(9))
        #expect(harness.counters.snapshot.crcErrors == 0)
    }

    @Test func garbageOnTheLineIsCountedAndReadsContinue() async throws {
        let path = temporaryDirectory() + "/rfid"
        let reader = try MercuryReaderSimulator(link: path)
        defer { reader.stop() }
        let harness = DriverHarness(Self.driver(path))
        defer { harness.stop() }
        #expect(await harness.wait { $0.states.last == .reading })
        reader.babble([0x13, 0x37, 0xFF, 0xF9, 0x00] + MercuryWire.response(opcode: 0x22, status: 0, data: [1, 2, 3]).dropLast())
        reader.read(epc(3), antenna: 1, rssi: -45)
        reader.babble(Array(repeating: 0xFF, count: 3) + [0x01, 0x22, 0x00, 0x00, 0x10, 0xAB, 0xCD])
        reader.read(epc(4), antenna: 2, rssi: -46)
        #expect(await harness.wait { $0.tagReads.count == 2 })
        #expect(harness.tagReads.map(\.tag) == [epc(3), epc(4)])
        // Counted by the driver's thread right after it decodes; wait for it rather than race it.
        #expect(await harness.wait { h in
            let counts = h.counters.snapshot
            return counts.garbageBytes + counts.crcErrors + counts.oversizedFrames > 0
        })
        #expect(harness.states == [.connected, .configured, .reading], "garbage must not cost the session")
    }

    @Test func unplugIsReportedAndTheReaderComesBackByItself() async throws {
        let path = temporaryDirectory() + "/rfid"
        let reader = try MercuryReaderSimulator(link: path)
        defer { reader.stop() }
        let harness = DriverHarness(Self.driver(path))
        defer { harness.stop() }
        #expect(await harness.wait { $0.states.last == .reading })
        reader.unplug()
        #expect(await harness.wait { $0.states.last == .lost })
        try reader.replug()
        #expect(await harness.wait { $0.states.last == .reading })
        #expect(harness.states.starts(with: [.connected, .configured, .reading, .lost]))
        reader.read(epc(9), antenna: 1, rssi: -40)
        #expect(await harness.wait { $0.tagReads.count == 1 })
        #expect(harness.counters.snapshot.sessions >= 2)
    }

    @Test func aReaderThatRefusesTheRegionIsAnErrorWithTheReason() async throws {
        let path = temporaryDirectory() + "/rfid"
        let reader = try MercuryReaderSimulator(link: path)
        defer { reader.stop() }
        let harness = DriverHarness(Self.driver(path) { $0.region = .init(rawValue: 0x0D)! ; $0.tagProtocol = .iso18000_6B })
        defer { harness.stop() }
        #expect(await harness.wait { $0.states.last == .error })
        #expect(harness.changes.last?.detail.contains("does not support tag protocol iso18000-6b") == true)
        // Failing the same way on every retry is reported once.
        #expect(await harness.wait { $0.counters.snapshot.sessions >= 3 }, "it retried")
        #expect(harness.states.filter { $0 == .error }.count == 1)
    }
}
