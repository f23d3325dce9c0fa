/// The fast path of `lanegate replay`: one trace line's UTF-8 straight to a ``Detection``, with
/// no allocation and no `String`. Technicians replay whole days, millions of lines.
///
/// It takes the plain form `lanegate record` writes. Anything else answers nil, and the caller
/// parses the line with ``TraceLine/init(parsing:)``, which names what is wrong. That covers an
/// escape, a fraction, `null`, a nested value, a field that is missing or out of range, or a
/// device not in `deviceNames`. For every line this takes, the two give the same detection.
public struct TraceScanner: Sendable {
    private let devices: [[UInt8]]

    /// `deviceNames[i]` is ``DeviceIndex`` `i`, as in the configuration's `[[devices]]`.
    public init(deviceNames: [String]) {
        devices = deviceNames.map { Array($0.utf8) }
    }

    public func detection(in line: UnsafeBufferPointer<UInt8>) -> Detection? {
        var cursor = Cursor(bytes: line)
        var fields = Fields()
        guard cursor.take(UInt8(ascii: "{")) else { return nil }
        while true {
            cursor.skipSpace()
            guard let key = cursor.plainString() else { return nil }
            cursor.skipSpace()
            guard cursor.take(UInt8(ascii: ":")) else { return nil }
            cursor.skipSpace()
            guard let value = cursor.value() else { return nil }
            fields.set(Key(line, key), value)
            cursor.skipSpace()
            if cursor.take(UInt8(ascii: ",")) { continue }
            guard cursor.take(UInt8(ascii: "}")), cursor.atEnd else { return nil }
            break
        }
        return assemble(fields, Tokens(bytes: line))
    }

    private func assemble(_ f: Fields, _ line: Tokens) -> Detection? {
        guard let t = line.integer(f.t, in: 0...Int64.max), let dev = line.string(f.dev),
              let device = devices.firstIndex(where: { $0.elementsEqual(line.bytes[dev]) }),
              let kind = line.string(f.kind) else { return nil }
        let payload: Detection.Payload
        switch Key(line.bytes, kind) {
        case .tag:
            guard let epc = line.string(f.epc), let tag = TagID(hexUTF8: UnsafeBufferPointer(rebasing: line.bytes[epc])),
                  let antenna = line.integer(f.ant, in: 0...255), let rssi = line.integer(f.rssi, in: -128...127) else { return nil }
            var readerMicros: Int64?
            if f.rt != nil {
                guard let micros = line.integer(f.rt, in: Int64.min + 1...Int64.max) else { return nil }
                readerMicros = micros
            }
            payload = .tag(TagRead(tag: tag, antenna: UInt8(antenna), rssi: Int8(rssi), readerMicros: readerMicros))
        case .seal:
            guard let text = line.string(f.seal), let seal = Self.seal(line.bytes[text]),
                  let status = line.integer(f.status, in: 0...255), let rssi = line.integer(f.rssi, in: -128...127),
                  let antenna = line.integer(f.ant, in: 0...255) else { return nil }
            var events: Int64 = 0, eventTime: Int64 = 0
            if f.events != nil { guard let n = line.integer(f.events, in: 0...65535) else { return nil }; events = n }
            if f.eventTime != nil { guard let n = line.integer(f.eventTime, in: 0...Int64(UInt32.max)) else { return nil }; eventTime = n }
            payload = .seal(SealReport(seal: seal, status: SealStatus(rawValue: UInt8(status)), eventCount: UInt16(events),
                                       eventTime: UInt32(eventTime), rssi: Int8(rssi), antenna: UInt8(antenna)))
        case .loop:
            guard let number = line.integer(f.line, in: 0...65535), let on = line.bool(f.on) else { return nil }
            payload = .loop(LoopEdge(line: UInt16(number), occupied: on))
        default:
            return nil
        }
        return Detection(time: MonotonicInstant(nanoseconds: t), device: DeviceIndex(UInt16(device)), payload: payload)
    }

    /// `MMMM-TTTTTTTT` in hexadecimal digits, exactly.
    private static func seal(_ text: Slice<UnsafeBufferPointer<UInt8>>) -> SealID? {
        guard text.count == 13, text[text.startIndex + 4] == UInt8(ascii: "-") else { return nil }
        var manufacturer: UInt16 = 0, tag: UInt32 = 0
        for (offset, byte) in text.enumerated() where offset != 4 {
            guard let nibble = hexNibble(byte) else { return nil }
            if offset < 4 { manufacturer = manufacturer << 4 | UInt16(nibble) } else { tag = tag << 4 | UInt32(nibble) }
        }
        return SealID(manufacturer: manufacturer, tag: tag)
    }
}

/// The keys a trace line may carry (and the kinds, which are spelled the same way), told apart
/// by their bytes packed into one word: one comparison a key, not one a byte.
private enum Key {
    case t, dev, kind, epc, ant, rssi, rt, seal, status, events, eventTime, line, on, tag, loop, other

    init(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        var word: UInt64 = 0
        for (shift, i) in range.prefix(8).enumerated() { word |= UInt64(bytes[i]) << UInt64(shift * 8) }
        switch (range.count, word) {
        case (1, 0x74): self = .t
        case (2, 0x7472): self = .rt
        case (2, 0x6E6F): self = .on
        case (3, 0x76_6564): self = .dev
        case (3, 0x63_7065): self = .epc
        case (3, 0x74_6E61): self = .ant
        case (3, 0x67_6174): self = .tag
        case (4, 0x646E_696B): self = .kind
        case (4, 0x6973_7372): self = .rssi
        case (4, 0x6C61_6573): self = .seal
        case (4, 0x656E_696C): self = .line
        case (4, 0x706F_6F6C): self = .loop
        case (6, 0x7375_7461_7473): self = .status
        case (6, 0x7374_6E65_7665): self = .events
        case (10, 0x6974_5F74_6E65_7665):  // "event_ti" and then "me"
            self = bytes[range.lowerBound + 8] == UInt8(ascii: "m") && bytes[range.lowerBound + 9] == UInt8(ascii: "e")
                ? .eventTime : .other
        default: self = .other
        }
    }
}

/// Where the last value of each key lies, as a raw token (``TraceLine/init(parsing:)`` keeps the
/// last one too). The cursor has checked each token's form; only the values used are read.
private struct Fields {
    var t, dev, kind, epc, ant, rssi, rt, seal, status, events, eventTime, line, on: Range<Int>?

    mutating func set(_ key: Key, _ token: Range<Int>) {
        switch key {
        case .t: t = token
        case .dev: dev = token
        case .kind: kind = token
        case .epc: epc = token
        case .ant: ant = token
        case .rssi: rssi = token
        case .rt: rt = token
        case .seal: seal = token
        case .status: status = token
        case .events: events = token
        case .eventTime: eventTime = token
        case .line: line = token
        case .on: on = token
        case .tag, .loop, .other: break
        }
    }
}

/// Reads tokens the cursor has already checked: a string (quotes included), an integer of at
/// most 18 digits, or `true`/`false`.
private struct Tokens {
    let bytes: UnsafeBufferPointer<UInt8>

    /// The content of a string token.
    func string(_ token: Range<Int>?) -> Range<Int>? {
        guard let token, bytes[token.lowerBound] == UInt8(ascii: "\"") else { return nil }
        return (token.lowerBound + 1)..<(token.upperBound - 1)
    }

    func integer(_ token: Range<Int>?, in range: ClosedRange<Int64>) -> Int64? {
        guard let token else { return nil }
        var i = token.lowerBound
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < token.upperBound, bytes[i] &- UInt8(ascii: "0") < 10 else { return nil }
        var n: Int64 = 0
        while i < token.upperBound {
            n = n &* 10 &+ Int64(bytes[i] &- UInt8(ascii: "0"))
            i += 1
        }
        let value = negative ? -n : n
        return range.contains(value) ? value : nil
    }

    func bool(_ token: Range<Int>?) -> Bool? {
        guard let token else { return nil }
        switch bytes[token.lowerBound] {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: return nil
        }
    }
}

private struct Cursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0

    var atEnd: Bool { i == bytes.count }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
    }

    mutating func take(_ byte: UInt8) -> Bool {
        guard i < bytes.count, bytes[i] == byte else { return false }
        i += 1
        return true
    }

    /// A string without escapes; the range of its content.
    mutating func plainString() -> Range<Int>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = i
        while i < bytes.count {
            let byte = bytes[i]
            i += 1
            if byte == UInt8(ascii: "\"") { return start..<(i - 1) }
            if byte == UInt8(ascii: "\\") { return nil }
        }
        return nil
    }

    /// The next value's token: a string without escapes, an integer, `true` or `false`. Anything
    /// else (`null`, a fraction, an exponent, 19 digits or more, a nested value) is nil.
    mutating func value() -> Range<Int>? {
        guard i < bytes.count else { return nil }
        let start = i
        switch bytes[i] {
        case UInt8(ascii: "\""):
            guard plainString() != nil else { return nil }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            guard integer() else { return nil }
        case UInt8(ascii: "t"):
            guard word("true") else { return nil }
        case UInt8(ascii: "f"):
            guard word("false") else { return nil }
        default:
            return nil
        }
        return start..<i
    }

    /// Up to 18 digits, so that reading them cannot overflow.
    private mutating func integer() -> Bool {
        _ = take(UInt8(ascii: "-"))
        let start = i
        while i < bytes.count, bytes[i] &- UInt8(ascii: "0") < 10 {
            guard i - start < 18 else { return false }
            i += 1
        }
        guard i > start else { return false }
        if i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"): return false
            default: break
            }
        }
        return true
    }

    private mutating func word(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard i + count <= bytes.count,
              bytes[i..<(i + count)].elementsEqual(UnsafeBufferPointer(start: text.utf8Start, count: count)) else { return false }
        if i + count < bytes.count, bytes[i + count] >= UInt8(ascii: "a"), bytes[i + count] <= UInt8(ascii: "z") { return false }
        i += count
        return true
    }
}
