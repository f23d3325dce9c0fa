/// One line of a raw-detection trace (JSON Lines), the format `lanegate record` writes and
/// `lanegate replay` reads:
///
///     {"t":81234567890,"dev":"rfid-a","kind":"tag","epc":"3005fb63ac1f3841ec880467","ant":1,"rssi":-52}
///     {"t":81234600000,"dev":"seal-rx","kind":"seal","seal":"0e1f-00c0ffee","status":0,"ant":1,"rssi":-61,"events":3,"event_time":1763900000}
///     {"t":81234700000,"dev":"loops","kind":"loop","line":0,"on":true}
///
/// `t` is `CLOCK_MONOTONIC` in nanoseconds, `dev` the device's name in the configuration. Tag
/// reads may carry `"rt"`, the reader's own timestamp in microseconds. Unknown keys are ignored,
/// so later versions can add fields; blank lines and lines starting with `#` are skipped.
public struct TraceLine: Sendable {
    public var time: MonotonicInstant
    public var device: String
    public var payload: Detection.Payload

    public init(time: MonotonicInstant, device: String, payload: Detection.Payload) {
        self.time = time
        self.device = device
        self.payload = payload
    }

    /// Parses one line; nil for a blank or comment line.
    public init?(parsing line: some StringProtocol) throws(TraceFormatError) {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        if trimmed.isEmpty || trimmed.first == "#" || trimmed == "\r" { return nil }
        let object = try FlatJSONObject(parsing: String(trimmed))
        time = MonotonicInstant(nanoseconds: try object.integer("t", in: 0...Int64.max))
        device = try object.string("dev")
        guard !device.isEmpty else { throw TraceFormatError("\"dev\" must name a configured device") }
        switch try object.string("kind") {
        case "tag":
            let hex = try object.string("epc")
            guard let tag = TagID(hex: hex) else {
                throw TraceFormatError("\"epc\" must be 2 to 64 hexadecimal digits (an even number), got \"\(hex.excerpt)\"")
            }
            payload = .tag(TagRead(
                tag: tag, antenna: UInt8(try object.integer("ant", in: 0...255)),
                rssi: Int8(try object.integer("rssi", in: -128...127)),
                readerMicros: try object.optionalInteger("rt", in: Int64.min + 1...Int64.max)))
        case "seal":
            let text = try object.string("seal")
            guard let seal = SealID(text) else {
                throw TraceFormatError("\"seal\" must be MMMM-TTTTTTTT (hex manufacturer and tag id), got \"\(text.excerpt)\"")
            }
            payload = .seal(SealReport(
                seal: seal, status: SealStatus(rawValue: UInt8(try object.integer("status", in: 0...255))),
                eventCount: UInt16(try object.optionalInteger("events", in: 0...65535) ?? 0),
                eventTime: UInt32(try object.optionalInteger("event_time", in: 0...Int64(UInt32.max)) ?? 0),
                rssi: Int8(try object.integer("rssi", in: -128...127)),
                antenna: UInt8(try object.integer("ant", in: 0...255))))
        case "loop":
            payload = .loop(LoopEdge(line: UInt16(try object.integer("line", in: 0...65535)),
                                     occupied: try object.bool("on")))
        case let other:
            throw TraceFormatError("\"kind\" must be \"tag\", \"seal\" or \"loop\", got \"\(other.excerpt)\"")
        }
    }

    /// The line's JSON text (no newline).
    public var json: String {
        var s = "{\"t\":\(time.nanoseconds),\"dev\":\(jsonQuoted(device)),"
        switch payload {
        case .tag(let r):
            s += "\"kind\":\"tag\",\"epc\":\"\(r.tag.hex)\",\"ant\":\(r.antenna),\"rssi\":\(r.rssi)"
            if let rt = r.readerMicros { s += ",\"rt\":\(rt)" }
        case .seal(let r):
            s += "\"kind\":\"seal\",\"seal\":\"\(r.seal)\",\"status\":\(r.status.rawValue),\"ant\":\(r.antenna),"
            s += "\"rssi\":\(r.rssi),\"events\":\(r.eventCount),\"event_time\":\(r.eventTime)"
        case .loop(let e):
            s += "\"kind\":\"loop\",\"line\":\(e.line),\"on\":\(e.occupied)"
        }
        return s + "}"
    }
}

/// What is wrong with a trace line; the reader adds the file and line number.
public struct TraceFormatError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension String {
    /// The value as an error message shows it: whole when short, else its start and its size,
    /// so a 10 MB bad value does not become a 10 MB log line.
    public var excerpt: String {
        guard utf8.count > 64 else { return self }
        return String(prefix(48)) + "… (\(utf8.count) bytes)"
    }
}

/// JSON string literal for `s`.
public func jsonQuoted(_ s: String) -> String {
    // Names, tags and types need no escaping: appended whole, not scalar by scalar.
    if s.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) { return "\"" + s + "\"" }
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            out += "\\u" + hexDigits(UInt64(scalar.value), width: 4)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
