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
            fields.set(Key(line[key]), value)
            cursor.skipSpace()
            if cursor.take(UInt8(ascii: ",")) { continue }
            guard cursor.take(UInt8(ascii: "}")), cursor.atEnd else { return nil }
            break
        }
        return assemble(fields, line)
    }

    private func assemble(_ f: Fields, _ line: UnsafeBufferPointer<UInt8>) -> Detection? {
        guard let t = f.t?.integer(in: 0...Int64.max), let dev = f.dev?.string,
              let device = devices.firstIndex(where: { $0.elementsEqual(line[dev]) }),
              let kind = f.kind?.string else { return nil }
        let payload: Detection.Payload
        switch Key(line[kind]) {
        case .tag:
            guard let epc = f.epc?.string, let tag = TagID(hexUTF8: UnsafeBufferPointer(rebasing: line[epc])),
                  let antenna = f.ant?.integer(in: 0...255), let rssi = f.rssi?.integer(in: -128...127) else { return nil }
            var readerMicros: Int64?
            if let rt = f.rt {
                guard let micros = rt.integer(in: Int64.min + 1...Int64.max) else { return nil }
                readerMicros = micros
            }
            payload = .tag(TagRead(tag: tag, antenna: UInt8(antenna), rssi: Int8(rssi), readerMicros: readerMicros))
        case .seal:
            guard let text = f.seal?.string, let seal = Self.seal(line[text]),
                  let status = f.status?.integer(in: 0...255), let rssi = f.rssi?.integer(in: -128...127),
                  let antenna = f.ant?.integer(in: 0...255) else { return nil }
            var events: Int64 = 0, eventTime: Int64 = 0
            if let value = f.events { guard let n = value.integer(in: 0...65535) else { return nil }; events = n }
            if let value = f.eventTime { guard let n = value.integer(in: 0...Int64(UInt32.max)) else { return nil }; eventTime = n }
            payload = .seal(SealReport(seal: seal, status: SealStatus(rawValue: UInt8(status)), eventCount: UInt16(events),
                                       eventTime: UInt32(eventTime), rssi: Int8(rssi), antenna: UInt8(antenna)))
        case .loop:
            guard let number = f.line?.integer(in: 0...65535), case .bool(let on)? = f.on else { return nil }
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

/// The keys a trace line may carry (and the kinds, which are spelled the same way).
private enum Key {
    case t, dev, kind, epc, ant, rssi, rt, seal, status, events, eventTime, line, on, tag, loop, other

    init(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) {
        func equals(_ name: StaticString) -> Bool {
            bytes.count == name.utf8CodeUnitCount
                && bytes.elementsEqual(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        }
        switch bytes.count {
        case 1: self = equals("t") ? .t : .other
        case 2: self = equals("rt") ? .rt : equals("on") ? .on : .other
        case 3: self = equals("dev") ? .dev : equals("epc") ? .epc : equals("ant") ? .ant : equals("tag") ? .tag : .other
        case 4: self = equals("kind") ? .kind : equals("rssi") ? .rssi : equals("seal") ? .seal : equals("line") ? .line
            : equals("loop") ? .loop : .other
        case 6: self = equals("status") ? .status : equals("events") ? .events : .other
        case 10: self = equals("event_time") ? .eventTime : .other
        default: self = .other
        }
    }
}

private enum Value {
    case string(Range<Int>)
    case integer(Int64)
    case bool(Bool)

    var string: Range<Int>? {
        if case .string(let range) = self { return range }
        return nil
    }

    func integer(in range: ClosedRange<Int64>) -> Int64? {
        if case .integer(let n) = self, range.contains(n) { return n }
        return nil
    }
}

/// The last value of each key, as in ``TraceLine/init(parsing:)``.
private struct Fields {
    var t, dev, kind, epc, ant, rssi, rt, seal, status, events, eventTime, line, on: Value?

    mutating func set(_ key: Key, _ value: Value) {
        switch key {
        case .t: t = value
        case .dev: dev = value
        case .kind: kind = value
        case .epc: epc = value
        case .ant: ant = value
        case .rssi: rssi = value
        case .rt: rt = value
        case .seal: seal = value
        case .status: status = value
        case .events: events = value
        case .eventTime: eventTime = value
        case .line: line = value
        case .on: on = value
        case .tag, .loop, .other: break
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
            switch bytes[i] {
            case UInt8(ascii: "\""):
                i += 1
                return start..<(i - 1)
            case UInt8(ascii: "\\"):
                return nil
            default:
                i += 1
            }
        }
        return nil
    }

    mutating func value() -> Value? {
        guard i < bytes.count else { return nil }
        switch bytes[i] {
        case UInt8(ascii: "\""):
            return plainString().map(Value.string)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return integer().map(Value.integer)
        case UInt8(ascii: "t"):
            return word("true") ? .bool(true) : nil
        case UInt8(ascii: "f"):
            return word("false") ? .bool(false) : nil
        default:
            return nil
        }
    }

    /// Up to 18 digits, so it cannot overflow; anything longer or with a fraction or exponent is
    /// the slow path's.
    private mutating func integer() -> Int64? {
        let negative = take(UInt8(ascii: "-"))
        let start = i
        var n: Int64 = 0
        while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
            n = n * 10 + Int64(bytes[i] - UInt8(ascii: "0"))
            i += 1
        }
        let digits = i - start
        guard digits > 0, digits <= 18 else { return nil }
        if i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"): return nil
            default: break
            }
        }
        return negative ? -n : n
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
