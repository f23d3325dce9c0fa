import LaneCore
import Testing

@Suite("Trace lines and ids")
struct TraceLineTests {
    @Test func roundTripsEveryKind() throws {
        let lines = [
            #"{"t":81234567890,"dev":"rfid-a","kind":"tag","epc":"3005fb63ac1f3841ec880467","ant":1,"rssi":-52,"rt":1700}"#,
            #"{"t":5,"dev":"seal-rx","kind":"seal","seal":"0e1f-00c0ffee","status":160,"ant":2,"rssi":-61,"events":3,"event_time":1763900000}"#,
            #"{"t":7,"dev":"loops","kind":"loop","line":3,"on":true}"#,
        ]
        for line in lines {
            let parsed = try #require(try TraceLine(parsing: line))
            #expect(parsed.json == line)
        }
    }

    @Test func skipsBlankAndCommentLines() throws {
        #expect(try TraceLine(parsing: "") == nil)
        #expect(try TraceLine(parsing: "  # recorded at lane 3") == nil)
    }

    @Test(arguments: [
        (#"{"t":1,"dev":"r","kind":"tag","epc":"3005","ant":1}"#, "missing \"rssi\""),
        (#"{"t":1,"dev":"r","kind":"tag","epc":"30x5","ant":1,"rssi":-5}"#, "\"epc\" must be"),
        (#"{"t":1,"dev":"r","kind":"tag","epc":"3005","ant":300,"rssi":-5}"#, "\"ant\" must be an integer from 0 to 255"),
        (#"{"t":-1,"dev":"r","kind":"loop","line":0,"on":true}"#, "\"t\" must be an integer"),
        (#"{"t":1,"dev":"r","kind":"wave"}"#, "\"kind\" must be"),
        (#"{"t":1,"dev":"r","kind":"loop","line":0,"on":1}"#, "\"on\" must be true or false"),
        (#"{"t":1,"dev":"r","kind":"loop","line":0,"on":true"#, "missing '}'"),
        (#"["t",1]"#, "each line is one JSON object"),
        (#"{"t":1,"dev":{"x":1}}"#, "trace lines are flat"),
    ])
    func rejectsMalformedLinesWithAReason(line: String, reason: String) {
        do {
            _ = try TraceLine(parsing: line)
            Issue.record("accepted \(line)")
        } catch {
            #expect(error.message.contains(reason), "\(error.message)")
        }
    }

    /// A 10 MB bad value used to come back whole in the error, and so in the log.
    @Test func errorsShowTheStartOfAHugeValueNotAllOfIt() {
        let huge = String(repeating: "7", count: 1_000_000)
        for (line, shown) in [(#"{"t":1,"dev":"r","kind":"tag","epc":"\#(huge)x","ant":1,"rssi":-5}"#, "(1000001 bytes)"),
                              (#"{"t":1,"dev":"r","kind":"\#(huge)"}"#, "(1000000 bytes)"),
                              (#"{"t":1,"\#(huge)":{}}"#, "(1000000 bytes)")] {
            do {
                _ = try TraceLine(parsing: line)
                Issue.record("accepted a 1 MB value")
            } catch {
                #expect(error.message.utf8.count < 300 && error.message.contains(shown), "\(error.message.prefix(300))")
            }
        }
    }

    @Test func tagIdsHoldUpTo32Bytes() throws {
        let id = try #require(TagID(hex: "E2801160600002054CC2F29A"))
        #expect(id.hex == "e2801160600002054cc2f29a" && id.count == 12)
        #expect(TagID(bytes: [UInt8](repeating: 0xAB, count: 32))?.count == 32)
        #expect(TagID(bytes: [UInt8](repeating: 0xAB, count: 33)) == nil)
        #expect(TagID(hex: "abc") == nil, "odd number of digits")
        #expect(TagID(hex: "0102") != TagID(hex: "010200"), "length is part of the identity")
    }

    @Test func sealIdsAndStatus() {
        #expect(SealID("0e1f-00c0ffee") == SealID(manufacturer: 0x0E1F, tag: 0x00C0FFEE))
        #expect(SealID("0e1f-00c0ffee")?.description == "0e1f-00c0ffee")
        #expect(SealID("e1f-00c0ffee") == nil)
        #expect(SealStatus(rawValue: 0xA0).names == ["tampered", "opened"])
        #expect(SealStatus.sealed.names == ["sealed"])
    }
}
