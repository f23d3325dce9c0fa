import LaneCore
@testable import LaneDevices
import Testing

/// Frames that came from outside this project: a session with a real M5e module published by an
/// open-source project (host requests and the module's answers), and the streamed tag records
/// that SparkFun's open-source Arduino library documents field by field from an M6e Nano. None
/// of them was made by this project's encoder or simulator, so they catch a codec that is
/// consistent with itself and wrong.
@Suite("Mercury frames from real modules")
struct MercuryGoldenFrameTests {
    /// What the host sent in the M5e session.
    @Test func ourCommandsAreTheBytesARealSessionSent() {
        #expect(MercuryCommand.bootApplication.frame == hex("FF 00 04 1D 0B"))
        #expect(MercuryCommand.getVersion.frame == hex("FF 00 03 1D 0C"))
        #expect(MercuryCommand(opcode: MercuryOpcode.setRegion, data: [0x02]).frame == hex("FF 01 97 02 4B BF"))  // EU
        #expect(MercuryCommand.setProtocol(.gen2).frame == hex("FF 02 93 00 05 51 7D"))
        #expect(MercuryCommand.setReadPower(centiDBm: 1000).frame == hex("FF 02 92 03 E8 42 B1"))
    }

    /// SparkFun's library sends these data blocks (its CRC is computed like ours, so only the
    /// data is compared): stop a continuous read, and a baud rate as four big-endian bytes.
    @Test func stopAndBaudCarryTheDataOtherHostsSend() {
        #expect(MercuryCommand.stopContinuousRead.data == [0x00, 0x00, 0x02])
        #expect(MercuryCommand.setBaud(115_200).data == [0x00, 0x01, 0xC2, 0x00])
    }

    /// The vendor's host library starts a stream with the metadata option, the tag-streaming
    /// flag, and "walk the configured antenna list" (0x0003), which the search list set by 0x91
    /// option 2 needs. Without 0x0003 a module reads on one port only.
    @Test func theStartAsksForTheAntennaSearchListAndStreaming() {
        let start = MercuryCommand.startContinuousRead(onTimeMilliseconds: 1000)
        #expect(start.opcode == 0x22)
        #expect(start.data[0] & 0x10 != 0)
        let searchFlags = UInt16(start.data[1]) << 8 | UInt16(start.data[2])
        #expect(searchFlags & 0x0003 == 0x0003)
        #expect(searchFlags & 0x0008 != 0)
        #expect(MercuryCommand.setAntennas([1, 2]).data == [0x02, 1, 1, 2, 2])
    }

    /// The module's answers in the M5e session, CRCs as the module computed them.
    @Test func aRealModulesAnswersDecode() throws {
        let session = hex("FF 14 03 00 00 07 10 23 00 01 00 00 03 20 14 10 07 01 07 02 09 00 00 00 10 5B D1"  // version
                          + " FF 00 97 00 00 77 9E"  // set region: done
                          + " FF 00 93 00 00 37 1A"  // set protocol: done
                          + " FF 00 92 00 00 27 3B"  // set read power: done
                          + " FF 00 21 04 00 B4 83")  // read a tag: none found
        var decoder = MercuryFrameDecoder()
        decoder.append(session)
        var frames: [MercuryFrame] = []
        while let frame = decoder.next() { frames.append(frame) }
        #expect(frames.map(\.opcode) == [0x03, 0x97, 0x93, 0x92, 0x21])
        #expect(frames.map(\.status) == [0, 0, 0, 0, MercuryStatus.noTagsFound])
        #expect(decoder.counters.crcErrors == 0 && decoder.counters.garbageBytes == 0)
        let version = try #require(MercuryVersion(frames[0].data))
        #expect(version.firmware == "01.07.02.09")
        #expect(version.firmwareDate == [0x20, 0x14, 0x10, 0x07])
        #expect(version.supports(.gen2))
        #expect(!version.supports(.ata))
    }

    /// A streamed tag record with metadata 0x01FF (everything up to GPIO status), whole frame.
    @Test func aStreamedRecordWithGPIOStatusDecodes() throws {
        let frame = hex("FF 28 22 00 00 10 00 1B 01 FF 01 01 C4 11 0E 16 40 00 00 01 27 00 00 05 00 00 0F 00 80 30 00"
                        + " 00 00 00 00 00 00 00 00 00 00 15 45 E9 4A 56 1D")
        var decoder = MercuryFrameDecoder()
        decoder.append(frame)
        let next = decoder.next()
        let decoded = try #require(next)
        #expect(decoded.opcode == 0x22 && decoded.status == 0)
        guard case .tag(let record) = try MercuryStreamMessage.parse(decoded.data) else {
            Issue.record("not a tag record")
            return
        }
        #expect(record.epc == TagID(bytes: hex("00 00 00 00 00 00 00 00 00 00 15 45")))
        #expect(record.pc == 0x3000)
        #expect(record.readCount == 1)
        #expect(record.rssi == -60)
        #expect(record.antenna == 1)
        #expect(record.frequency == 0x0E1640)  // 923.2 MHz
        #expect(record.timestampMilliseconds == 0x127)
        #expect(record.phase == 0)
        #expect(record.protocolCode == 5)
    }

    /// Metadata 0x0FFF: 144 bits of embedded tag memory, then GPIO, Gen2 Q, link frequency and
    /// target, each one byte, before the EPC. (The library prints this one without its CRC, so
    /// its data is parsed directly.)
    @Test func aStreamedRecordWithEmbeddedDataAndGen2FieldsDecodes() throws {
        let data = hex("10 01 1F 0F FF 01 01 DD 11 0D 37 FC 00 00 00 B3 00 AE 05 00 90"
                       + " FF 00 06 2F 80 29 01 0E 01 54 00 0D 5F FB FF FF DC 00"
                       + " 80 02 00 00 00 80 34 00 E2 00 00 15 86 0E 02 88 15 40 80 29 3B 72")
        guard case .tag(let record) = try MercuryStreamMessage.parse(data) else {
            Issue.record("not a tag record")
            return
        }
        #expect(record.epc == TagID(bytes: hex("E2 00 00 15 86 0E 02 88 15 40 80 29")))
        #expect(record.pc == 0x3400)
        #expect(record.rssi == -35)
        #expect(record.frequency == 0x0D37FC)
        #expect(record.timestampMilliseconds == 0xB3)
        #expect(record.phase == 0xAE)
    }

    @Test func metadataOfUnknownSizeIsRefusedNotMisread() {
        let data = hex("10 00 1B 10 00 01") + hex("00 80 30 00 00 00 00 00 00 00 00 00 00 00 15 45 E9 4A")
        #expect(throws: MercuryRecordError.unknownMetadata(0x1000)) { try MercuryStreamMessage.parse(data) }
    }
}
