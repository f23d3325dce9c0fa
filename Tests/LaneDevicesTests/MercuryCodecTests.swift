import LaneCore
@testable import LaneDevices
import LaneSimulators
import Testing

@Suite("Mercury serial codec")
struct MercuryCodecTests {
    @Test func crcCheckValuesTellTheTwoVariantsApart() {
        let check = Array("123456789".utf8)
        #expect(CRC16.mercury(check) == 0xA69D)
        #expect(CRC16.ccittFalse(check) == 0x29B1)
        // The simulators' bit-by-bit versions agree with the drivers' table versions.
        #expect(MercuryWire.crc(check) == 0xA69D)
        #expect(ESealWire.crc(check) == 0x29B1)
        for length in 0..<64 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(CRC16.mercury(bytes) == MercuryWire.crc(bytes))
            #expect(CRC16.ccittFalse(bytes) == ESealWire.crc(bytes))
        }
    }

    @Test func commandsMatchTheReferenceVectors() {
        #expect(MercuryCommand.getVersion.frame == hex("FF 00 03 1D 0C"))
        #expect(MercuryCommand.stopContinuousRead.frame == hex("FF 03 2F 00 00 02 5E 86"))
        #expect(MercuryCommand.setRegion(.na).frame == hex("FF 01 97 01 4B BC"))
        #expect(MercuryCommand.setProtocol(.gen2).frame == hex("FF 02 93 00 05 51 7D"))
        #expect(MercuryCommand.setBaud(115_200).frame == hex("FF 04 06 00 01 C2 00 A4 60"))
    }

    @Test func startCommandAsksForStreamingWithMetadata() {
        let start = MercuryCommand.startContinuousRead(onTimeMilliseconds: 250)
        #expect(start.opcode == 0x22)
        #expect(start.data == hex("10 000B 00FA 0017"))
    }

    @Test func decoderCutsFramesSplitAnywhere() {
        let frames = [MercuryWire.response(opcode: 0x03, status: 0, data: Array(0..<20)),
                      MercuryWire.response(opcode: 0x22, status: 0x0400, data: []),
                      MercuryWire.response(opcode: 0x97, status: 0x010B, data: [])]
        let stream = frames.flatMap { $0 }
        for split in 1..<stream.count {
            var decoder = MercuryFrameDecoder()
            var out: [MercuryFrame] = []
            decoder.append(stream[..<split])
            while let f = decoder.next() { out.append(f) }
            decoder.append(stream[split...])
            while let f = decoder.next() { out.append(f) }
            #expect(out.map(\.opcode) == [0x03, 0x22, 0x97], "split at \(split)")
            #expect(out.map(\.status) == [0, 0x0400, 0x010B])
            #expect(out[0].data == Array(0..<20))
            #expect(decoder.counters.errors == 0)
        }
    }

    @Test func decoderResynchronisesAfterGarbageBadCRCAndImpossibleLengths() {
        var decoder = MercuryFrameDecoder()
        var corrupt = MercuryWire.response(opcode: 0x93, status: 0, data: [1, 2])
        corrupt[5] ^= 0x40
        decoder.append([0x00, 0x13, 0x37] + [0xFF, 0xFA] + corrupt + MercuryWire.response(opcode: 0x0C, status: 0, data: [2]))
        let frame = decoder.next()
        #expect(frame?.opcode == 0x0C)
        #expect(frame?.data == [2])
        #expect(decoder.next() == nil)
        #expect(decoder.counters.oversized == 1)
        #expect(decoder.counters.crcErrors >= 1)
        #expect(decoder.counters.garbageBytes >= 3)
        #expect(decoder.counters.frames == 1)
    }

    @Test func decoderReadsResponsesWithoutCRC() {
        var decoder = MercuryFrameDecoder(crcMode: .absent)
        // The reply to the command that turned CRCs off still carries one: skipped, not garbage.
        decoder.append(MercuryWire.response(opcode: 0x9A, status: 0, data: [], crc: true)
                       + MercuryWire.response(opcode: 0x22, status: 0x0400, data: [], crc: false)
                       + MercuryWire.response(opcode: 0x03, status: 0, data: [7, 7], crc: false))
        #expect(decoder.next()?.opcode == 0x9A)
        #expect(decoder.next()?.opcode == 0x22)
        #expect(decoder.next()?.data == [7, 7])
        #expect(decoder.counters.garbageBytes == 0)
    }

    @Test func abandonedPartialFrameIsCountedAsTruncated() {
        var decoder = MercuryFrameDecoder()
        decoder.append(MercuryWire.response(opcode: 0x03, status: 0, data: Array(0..<20)).prefix(9))
        #expect(decoder.next() == nil)
        decoder.abandonPartialFrame()
        #expect(decoder.counters.truncated == 1)
        #expect(decoder.pendingBytes == 0)
    }

    @Test func goldenStreamedTagRecord() throws {
        // option 10, flags 0008, metadata 0017 (count, rssi, antenna, timestamp), more records,
        // count 3, RSSI -61, antenna 2/2, 1234 ms, 128 bits (PC + EPC-96 + CRC), PC 3000, EPC, CRC.
        let data = hex("10 0008 0017 01 03 C3 22 000004D2 0080 3000 3005FB63AC1F3841EC880467 ABCD")
        guard case .tag(let record) = try MercuryStreamMessage.parse(data) else { Issue.record("no tag"); return }
        #expect(record.epc.hex == "3005fb63ac1f3841ec880467")
        #expect(record.readCount == 3)
        #expect(record.rssi == -61)
        #expect(record.antenna == 2)
        #expect(record.timestampMilliseconds == 1234)
        #expect(record.pc == 0x3000)
        // The simulator's encoder produces the same record.
        #expect(MercuryWire.tagRecord(record.epc, antenna: 2, rssi: -61, timestamp: 1234, metadata: 0x0017)
                == hex("10 0008 0017 01 01 C3 22 000004D2 0080 3000 3005FB63AC1F3841EC880467 5C3A"))
    }

    @Test func tagRecordWithEveryMetadataFieldAndXPC() throws {
        let data = hex("10 0008 007F 00 01 C3 11 0DF732 00000010 005A 05 0090 3200 ABCD 3005FB63AC1F3841EC880467 1234")
        guard case .tag(let record) = try MercuryStreamMessage.parse(data) else { Issue.record("no tag"); return }
        #expect(record.frequency == 915_250)
        #expect(record.phase == 0x5A)
        #expect(record.protocolCode == 5)
        #expect(record.epc.count == 12)
        #expect(record.antenna == 1)
    }

    @Test func badRecordsAreErrorsNotCrashes() {
        #expect(throws: MercuryRecordError.noMetadata) { try MercuryStreamMessage.parse(hex("00 0008 0017 01")) }
        #expect(throws: MercuryRecordError.truncated(field: "timestamp")) {
            try MercuryStreamMessage.parse(hex("10 0008 0017 01 03 C3 22 0000"))
        }
        #expect(throws: MercuryRecordError.badEPCLength(bits: 12)) {
            try MercuryStreamMessage.parse(hex("10 0008 0000 01 000C 3000"))
        }
        #expect(throws: MercuryRecordError.unknownResponseType(9)) { try MercuryStreamMessage.parse(hex("10 0008 0000 09")) }
        #expect((try? MercuryStreamMessage.parse(hex("10 0008 0017 00"))) == .endOfCycle)
        #expect((try? MercuryStreamMessage.parse(hex("10 0008 0017 02 FF FF"))) == .statistics)
    }

    @Test func versionReplyNamesTheModule() throws {
        let version = try #require(MercuryVersion(hex("14010200 30000001 20240315 010B0102 10000010")))
        #expect(version.model == "M6e Nano")
        #expect(version.firmware == "01.0B.01.02")
        #expect(version.supports(.gen2))
        #expect(version.supports(.ata))
        #expect(!version.supports(.iso18000_6B))
        #expect(MercuryVersion(hex("1401")) == nil)
    }
}
