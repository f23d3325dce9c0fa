import LaneCore
@testable import LaneDevices
import LaneSimulators
import Testing

/// LLRP as real readers sent it, from captures the sllurp project publishes with its tests, and
/// as an attacker would send it. None of these bytes came from this project's encoder.
@Suite("LLRP from real readers, and from hostile peers")
struct LLRPCaptureTests {
    /// Three RO_ACCESS_REPORTs of one session: two 96-bit EPCs as EPC-96 TV parameters, and a
    /// 144-bit EPC, which a reader must send as an EPCData TLV.
    static let reports = hex("043d0000002c4095892f00f000228d3005fb63ac1f3841ec88046781000186ce820004ec2ea8354c09880001"
                             + "043d0000002c4095893000f000228d300833b2ddd906c00000000081000186c6820004ec2ea8355af2880001"
                             + "043d000000374095894100f0002d00f1001800901fb41f712ac9c37ab79d618173188324001a"
                             + "81000186ef820004ec2ea8381f57880001")
    /// The READER_EVENT_NOTIFICATION a reader opens a connection with: ConnectionAttemptEvent, success.
    static let greeting = hex("043f000000200ab288c900f600160080000c0004f8535baadaff010000060000")

    /// A parameter of an unknown type (1000) inside another, 10,000 deep: 40,000 bytes.
    static let nestedTenThousandDeep = (0..<10_000).reduce([UInt8]()) { inner, _ in LLRPWire.tlv(1000, inner) }

    @Test(arguments: [1, 3, 7, 44, 55])
    func aCapturedSessionDecodesInAnyPieces(_ piece: Int) throws {
        var decoder = LLRPMessageDecoder()
        var messages: [LLRPMessage] = []
        let stream = Self.greeting + Self.reports
        for start in stride(from: 0, to: stream.count, by: piece) {
            decoder.append(stream[start..<min(start + piece, stream.count)])
            while let message = try decoder.next() { messages.append(message) }
        }
        #expect(messages.map(\.type) == [63, 61, 61, 61])
        #expect(try LLRPReports.connectionAttempt(in: messages[0].body) == 0)
        var unreadable = 0
        let tags = try messages.dropFirst().flatMap { message throws(LLRPDecodeError) in
            try LLRPReports.tags(in: message.body, unreadable: &unreadable)
        }
        #expect(unreadable == 0)
        #expect(tags.map(\.epc.hex) == ["3005fb63ac1f3841ec880467", "300833b2ddd906c000000000",
                                        "1fb41f712ac9c37ab79d618173188324001a"])
        #expect(tags.map(\.antenna) == [1, 1, 1])
        #expect(tags.map(\.peakRSSI) == [-50, -58, -17])
        #expect(tags.map(\.seenCount) == [1, 1, 1])
        #expect(tags[2].firstSeenUTC == 0x0004_EC2E_A838_1F57)
    }

    /// LLRP 1.1 readers put version 2 in the header; nothing else changes.
    @Test func aVersionTwoHeaderReadsTheSame() throws {
        var bytes = Self.greeting
        bytes[0] = (bytes[0] & 0xE3) | (2 << 2)
        var decoder = LLRPMessageDecoder()
        decoder.append(bytes)
        let next = try decoder.next()
        let message = try #require(next)
        #expect(message.type == 63)
        #expect(try LLRPReports.connectionAttempt(in: message.body) == 0)
    }

    @Test func aLengthOfFourGigabytesIsRefusedAtOnce() {
        var decoder = LLRPMessageDecoder()
        decoder.append(hex("043d ffffffff 00000001") + [UInt8](repeating: 0xAB, count: 100))
        #expect(throws: LLRPDecodeError.badMessageLength(0xFFFF_FFFF)) { try decoder.next() }
    }

    /// A parameter nested 10,000 deep inside a tag report is skipped by its length, not walked.
    @Test func aParameterNestedTenThousandDeepIsSkipped() throws {
        let report = Array(Self.reports[10..<44])  // the first TagReportData
        let tagReport = LLRPWire.tlv(240, Array(report[4...]) + Self.nestedTenThousandDeep)
        var unreadable = 0
        let tags = try LLRPReports.tags(in: tagReport, unreadable: &unreadable)
        #expect(tags.map(\.epc.hex) == ["3005fb63ac1f3841ec880467"])
    }

    /// The simulated reader meets the same: a request nested 10,000 deep is answered, and a
    /// length no message can have gets an ERROR_MESSAGE and a hang-up, not a 4 GB buffer.
    @Test func theSimulatedReaderAnswersGarbageAndHangsUp() throws {
        let reader = try LLRPReaderSimulator()
        defer { reader.stop() }
        let link = try TCPLink(host: "127.0.0.1", port: reader.port)
        defer { link.close() }
        try link.write(LLRPWire.message(LLRPMessageType.getReaderCapabilities, 7, [0] + Self.nestedTenThousandDeep))
        var session = PeerSession(link: link)
        #expect(try session.next().type == LLRPMessageType.readerEventNotification)
        let capabilities = try session.next()
        #expect(capabilities.type == LLRPMessageType.getReaderCapabilitiesResponse && capabilities.id == 7)

        try link.write(hex("0401 ffffffff 00000008") + [UInt8](repeating: 0x5A, count: 4096))
        let error = try session.next()
        #expect(error.type == LLRPMessageType.errorMessage)
        #expect(try LLRPReports.status(in: error.body).code == 101)
        #expect(session.hungUp())
        #expect(reader.counts.malformed == 1)

        // The reader is still there for the next client.
        let next = try TCPLink(host: "127.0.0.1", port: reader.port)
        defer { next.close() }
        var again = PeerSession(link: next)
        #expect(try LLRPReports.connectionAttempt(in: try again.next().body) == 0)
    }
}

/// The client side of a raw LLRP connection, for tests that speak to a reader byte by byte.
private struct PeerSession {
    let link: TCPLink
    var decoder = LLRPMessageDecoder()

    init(link: TCPLink) { self.link = link }

    mutating func next(within seconds: Int = 10) throws -> LLRPMessage {
        let deadline = MonotonicInstant.now().advanced(by: .seconds(Int64(seconds)))
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while MonotonicInstant.now() < deadline {
            if let message = try decoder.next() { return message }
            let n = try link.read(into: &buffer, timeout: .milliseconds(100))
            decoder.append(buffer[..<n])
        }
        throw LinkError.closed("no message within \(seconds) s")
    }

    /// Whether the reader closed the connection within a few seconds.
    func hungUp() -> Bool {
        let deadline = MonotonicInstant.now().advanced(by: .seconds(5))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while MonotonicInstant.now() < deadline {
            do { _ = try link.read(into: &buffer, timeout: .milliseconds(100)) } catch { return true }
        }
        return false
    }
}
