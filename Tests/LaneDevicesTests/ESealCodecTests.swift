import LaneCore
@testable import LaneDevices
import LaneSimulators
import Testing

@Suite("E-seal receiver codec")
struct ESealCodecTests {
    @Test func goldenSealReportFrame() throws {
        // AA 55, LEN 16, SEAL_REPORT: maker 0E1F, tag 00012345, tampered+opened, 2 events,
        // event time 1763900000, RSSI -60, antenna 2; CRC-16/CCITT-FALSE over LEN..payload.
        let bytes = hex("AA55 10 01 0E1F 00012345 A0 0002 6922FA60 C4 02")
        let crc = CRC16.ccittFalse(bytes.dropFirst(2))
        var decoder = ESealFrameDecoder()
        decoder.append(bytes + [UInt8(crc >> 8), UInt8(crc & 0xFF)])
        let next = decoder.next()
        let frame = try #require(next)
        guard case .seal(let report) = try ESealMessage(frame) else { Issue.record("not a seal report"); return }
        #expect(report.seal == SealID(manufacturer: 0x0E1F, tag: 0x12345))
        #expect(report.status == [.tampered, .opened])
        #expect(report.eventCount == 2)
        #expect(report.eventTime == 1_763_900_000)
        #expect(report.rssi == -60)
        #expect(report.antenna == 2)
        #expect(ESealWire.frame(type: 0x01, payload: frame.payload) == bytes + [UInt8(crc >> 8), UInt8(crc & 0xFF)])
    }

    @Test func hostCommandsEncode() {
        #expect(ESealFrame.getStatus.bytes == ESealWire.frame(type: 0x81, payload: []))
        #expect(ESealFrame.setTime(utcSeconds: 0x6923_1560).bytes == ESealWire.frame(type: 0x82, payload: hex("69231560")))
        #expect(Array(ESealFrame.getStatus.bytes.prefix(4)) == hex("AA55 01 81"))
    }

    @Test func heartbeatAndErrorMessages() throws {
        var decoder = ESealFrameDecoder()
        decoder.append(ESealWire.frame(type: 0x02, payload: hex("0104 0000003C 9F")) + ESealWire.frame(type: 0x03, payload: [3])
                       + ESealWire.frame(type: 0x44, payload: [1, 2]))
        var messages: [ESealMessage] = []
        while let frame = decoder.next() { messages.append(try ESealMessage(frame)) }
        #expect(messages == [.status(firmware: 0x0104, uptimeSeconds: 60, noiseFloor: -97),
                             .error(ESealReceiverError(code: 3)), .unknown(type: 0x44)])
        #expect(ESealReceiverError(code: 3).description == "clock not set")
    }

    @Test func shortPayloadIsAnErrorNotACrash() throws {
        let frame = ESealFrame(type: 0x01, payload: [1, 2, 3])
        #expect(throws: ESealMessage.DecodeError.badPayloadLength(type: 1, length: 3)) { try ESealMessage(frame) }
    }

    @Test func decoderDropsOneByteAndHuntsAfterBadFrames() {
        var decoder = ESealFrameDecoder()
        var corrupt = ESealWire.frame(type: 0x02, payload: hex("0104 0000003C 9F"))
        corrupt[6] ^= 1
        let good = ESealWire.frame(type: 0x03, payload: [1])
        decoder.append(hex("AA 00 55 AA55 00") + corrupt + [0xAA] + good)
        let frame = decoder.next()
        #expect(frame?.type == 0x03)
        #expect(decoder.next() == nil)
        #expect(decoder.counters.crcErrors == 1)
        #expect(decoder.counters.oversized == 1)  // LEN 0
        #expect(decoder.counters.garbageBytes > 0)
    }

    @Test func framesSplitAnywhereDecode() {
        let stream = ESealWire.frame(type: 0x02, payload: hex("0104 0000003C 9F")) + ESealWire.frame(type: 0x03, payload: [2])
        for split in 1..<stream.count {
            var decoder = ESealFrameDecoder()
            var types: [UInt8] = []
            decoder.append(stream[..<split])
            while let f = decoder.next() { types.append(f.type) }
            decoder.append(stream[split...])
            while let f = decoder.next() { types.append(f.type) }
            #expect(types == [0x02, 0x03], "split at \(split)")
        }
    }
}
