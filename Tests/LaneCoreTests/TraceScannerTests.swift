import LaneCore
import Testing

/// The replay's fast path must never disagree with the precise parser: for every line it takes,
/// the same detection; every line it declines goes to the parser, which accepts or names the fault.
@Suite("Trace scanner")
struct TraceScannerTests {
    let devices = ["rfid-a", "seal-rx", "loops"]
    let plain = [
        #"{"t":81234567890,"dev":"rfid-a","kind":"tag","epc":"3005fb63ac1f3841ec880467","ant":1,"rssi":-52}"#,
        #"{"t":81234567890,"dev":"rfid-a","kind":"tag","epc":"3005FB63AC1F3841EC880467","ant":4,"rssi":-52,"rt":1700}"#,
        #"{"t":5,"dev":"seal-rx","kind":"seal","seal":"0e1f-00c0ffee","status":160,"ant":2,"rssi":-61,"events":3,"event_time":1763900000}"#,
        #"{"t":6,"dev":"seal-rx","kind":"seal","seal":"0E1F-00C0FFEE","status":0,"ant":1,"rssi":-128}"#,
        #"{"t":7,"dev":"loops","kind":"loop","line":3,"on":true}"#,
        #"{ "t" : 0 , "dev":"loops","kind":"loop","line":65535,"on":false,"note":"x","n":12,"b":true }"#,
        #"{"kind":"loop","t":1,"t":2,"dev":"rfid-a","dev":"loops","line":1,"on":true}"#,
    ]

    /// What a detection reads as, in trace-line form.
    func text(_ detection: Detection) -> String {
        TraceLine(time: detection.time, device: devices[Int(detection.device.rawValue)], payload: detection.payload).json
    }

    func scanned(_ line: String) -> String? {
        let scanner = TraceScanner(deviceNames: devices)
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer { scanner.detection(in: UnsafeBufferPointer($0)).map(text) }
    }

    func parsed(_ line: String) -> String? {
        guard let trace = try? TraceLine(parsing: line), devices.contains(trace.device) else { return nil }
        return trace.json
    }

    @Test func takesWhatRecordWritesAndAgreesWithTheParser() throws {
        for line in plain {
            let fast = try #require(scanned(line), "the fast path declined \(line)")
            #expect(fast == parsed(line), "\(line)")
        }
    }

    /// Lines the parser accepts or refuses for a reason the scanner leaves to it.
    @Test func declinesWhatItDoesNotFullyUnderstand() {
        for line in [
            #"  {"t":7,"dev":"loops","kind":"loop","line":3,"on":true}"#,
            #"{"t":7,"dev":"loops","kind":"loop","line":3,"on":true}"# + "\r",
            #"{"t":7,"dev":"lo\u006fps","kind":"loop","line":3,"on":true}"#,
            #"{"t":7,"dev":"loops","kind":"loop","line":3,"on":true,"x":1.5}"#,
            #"{"t":7,"dev":"loops","kind":"loop","line":3,"on":true,"x":null}"#,
            #"{"t":7,"dev":"loops","kind":"loop","line":3,"on":true,"x":[1]}"#,
            #"{"t":7,"dev":"nowhere","kind":"loop","line":3,"on":true}"#,
            #"{"t":7,"dev":"loops","kind":"loop","line":65536,"on":true}"#,
            #"{"t":1234567890123456789,"dev":"loops","kind":"loop","line":3,"on":true}"#,
            #"{"t":7,"dev":"loops","kind":"loop","line":3,"on":true,"x":77777777777777777777777777777}"#,
            #"{"t":7,"dev":"rfid-a","kind":"tag","epc":"300","ant":1,"rssi":-5}"#,
            #"{"t":7,"dev":"seal-rx","kind":"seal","seal":"-0e1f-00c0ffee","status":1,"ant":1,"rssi":-5}"#,
            #"{"t":7,"dev":"loops","kind":"loop","line":3,"on":trueish}"#,
            "# a comment", "",
        ] {
            #expect(scanned(line) == nil, "\(line)")
        }
    }

    /// Random damage to good lines: whenever the scanner still takes one, the parser reads the
    /// very same detection from it.
    @Test func damagedLinesNeverGetADifferentAnswer() {
        var random = UInt64(0x9E37_79B9_7F4A_7C15)
        func next() -> Int {
            random &+= 0x9E37_79B9_7F4A_7C15
            var z = random
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int(truncatingIfNeeded: (z ^ (z >> 31)) >> 1)
        }
        let alphabet = Array(#"{}[]":,-0123456789.eE+ tfnaulrx\"#.utf8)
        var taken = 0
        for round in 0..<20_000 {
            var bytes = Array(plain[round % plain.count].utf8)
            for _ in 0...(next() % 3) {
                let at = next() % bytes.count
                switch next() % 3 {
                case 0: bytes[at] = alphabet[next() % alphabet.count]
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet[next() % alphabet.count], at: at)
                }
                if bytes.isEmpty { bytes = [0x7B] }
            }
            let line = String(decoding: bytes, as: UTF8.self)
            guard let fast = scanned(line) else { continue }
            taken += 1
            #expect(fast == parsed(line), "\(line)")
        }
        #expect(taken > 1_000, "enough damaged lines still scanned to mean something: \(taken)")
    }
}
