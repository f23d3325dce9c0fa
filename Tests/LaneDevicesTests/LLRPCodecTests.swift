import LaneCore
@testable import LaneDevices
import LaneSimulators
import Testing

@Suite("LLRP codec")
struct LLRPCodecTests {
    static let goldenReport = hex("043d 0000002c 4095892f 00f0 0022 8d 3005fb63ac1f3841ec880467 81 0001 86 ce 82 0004ec2ea8354c09 88 0001")

    @Test func goldenROAccessReport() throws {
        var decoder = LLRPMessageDecoder()
        decoder.append(Self.goldenReport)
        let next = try decoder.next()
        let message = try #require(next)
        #expect(message.type == LLRPMessageType.roAccessReport)
        #expect(message.id == 0x4095_892F)
        var unreadable = 0
        let tags = try LLRPReports.tags(in: message.body, unreadable: &unreadable)
        #expect(unreadable == 0)
        #expect(tags.count == 1)
        #expect(tags[0].epc.hex == "3005fb63ac1f3841ec880467")
        #expect(tags[0].antenna == 1)
        #expect(tags[0].peakRSSI == -50)
        #expect(tags[0].firstSeenUTC == 1_385_585_041_558_537)  // 2013-11-27T20:44:01.558537Z
        #expect(tags[0].seenCount == 1)
        // Re-encoding the header gives the same bytes.
        #expect(LLRPMessage(type: message.type, id: message.id, body: message.body).bytes == Self.goldenReport)
    }

    @Test func unknownParametersAreSkippedByLength() throws {
        // A custom parameter (1023) at the top level and inside the tag report, and an EPCData
        // TLV with a 128-bit EPC instead of EPC-96.
        let custom = LLRPWire.tlv(1023, hex("0000651A 00000001 DEAD"))
        let epc = LLRPWire.tlv(241, hex("0080 00112233445566778899AABBCCDDEEFF"))
        let tag = LLRPWire.tlv(240, epc + custom + hex("81 0003 86 C4"))
        var unreadable = 0
        let tags = try LLRPReports.tags(in: custom + tag, unreadable: &unreadable)
        #expect(tags.count == 1)
        #expect(tags[0].epc.hex == "00112233445566778899aabbccddeeff")
        #expect(tags[0].antenna == 3)
        #expect(tags[0].peakRSSI == -60)
        #expect(tags[0].firstSeenUTC == nil)
    }

    @Test func anUnreadableTagReportIsCountedAndTheRestKept() throws {
        let broken = LLRPWire.tlv(240, hex("FF 01 02"))  // TV type 127: size unknown
        let noEPC = LLRPWire.tlv(240, hex("81 0001"))
        let good = LLRPWire.tlv(240, hex("8d 3005fb63ac1f3841ec880467"))
        var unreadable = 0
        let tags = try LLRPReports.tags(in: broken + noEPC + good, unreadable: &unreadable)
        #expect(tags.count == 1)
        #expect(unreadable == 2)
    }

    @Test func brokenFramingIsReported() {
        // Version 2 (LLRP 1.1) is read like version 1; 3 is no LLRP this client knows.
        var llrp11 = LLRPMessageDecoder()
        llrp11.append(hex("083d 0000000a 00000001"))
        #expect((try? llrp11.next()) == LLRPMessage(type: 61, id: 1))
        var wrongVersion = LLRPMessageDecoder()
        wrongVersion.append(hex("0c3d 0000000a 00000001"))
        #expect(throws: LLRPDecodeError.unsupportedVersion(3)) { try wrongVersion.next() }
        var tooShort = LLRPMessageDecoder()
        tooShort.append(hex("043d 00000004 00000001"))
        #expect(throws: LLRPDecodeError.badMessageLength(4)) { try tooShort.next() }
        var truncatedParameter = LLRPParameterIterator(hex("00f0 0022 8d")[...])
        #expect(throws: LLRPDecodeError.truncatedParameter(type: 240)) { try truncatedParameter.next() }
        var partial = LLRPMessageDecoder()
        partial.append(Self.goldenReport.prefix(20))
        #expect((try? partial.next()) == .some(nil))
    }

    @Test func statusCapabilitiesAndConnectionEvent() throws {
        let status = LLRPWire.tlv(287, hex("0065 0004") + Array("busy".utf8))
        let result = try LLRPReports.status(in: status)
        #expect(result.code == 101)
        #expect(result.text == "busy")
        let caps = LLRPWire.tlv(137, hex("0004 4000 0000651A 001E88AA 0005") + Array("7.5.0".utf8))
        let parsed = try LLRPReports.capabilities(in: LLRPWire.tlv(287, hex("0000 0000")) + caps)
        #expect(parsed.antennas == 4)
        #expect(parsed.manufacturer == 25882)
        #expect(parsed.firmware == "7.5.0")
        let event = LLRPWire.tlv(246, LLRPWire.tlv(128, hex("0004ec2ea8354c09")) + LLRPWire.tlv(256, hex("0002")))
        #expect(try LLRPReports.connectionAttempt(in: event) == 2)
    }

    @Test func requestsEncode() {
        #expect(LLRPRequests.keepaliveAck(id: 7).bytes == hex("0448 0000000a 00000007"))
        #expect(LLRPRequests.deleteROSpec(id: 2).bytes == hex("0415 0000000e 00000002 00000000"))
        #expect(LLRPRequests.setKeepalive(id: 3, periodMilliseconds: 10_000).bytes
                == hex("0403 00000014 00000003 00 00dc 0009 01 00002710"))
        // ROSpec: id, priority 0, disabled; boundary (null start: START_ROSPEC starts it; null
        // stop); AISpec on all
        // antennas (id 0) with a null stop and a Gen2 inventory; report every tag with antenna,
        // peak RSSI, first/last seen and seen count.
        let add = LLRPRequests.addROSpec(id: 4, roSpecID: 1234, antennas: [], reportEvery: 1)
        #expect(add.bytes == hex("""
            0414 0000004b 00000004
            00b1 0041 000004d2 00 00
              00b2 0012 00b3 0005 00 00b6 0009 00 00000000
              00b7 0018 0001 0000 00b8 0009 00 00000000 00ba 0007 0001 01
              00ed 000d 01 0001 00ee 0006 1780
            """))
    }
}
