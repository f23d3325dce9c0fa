/// A JSON object whose values are strings, integers, booleans or null: all a trace line holds.
///
/// Traces run to millions of lines and are written by field tools, so this reader is both fast
/// (one pass over the UTF-8, no intermediate tree) and precise about what is wrong, where a
/// general JSON decoder would be neither. Nested objects and arrays are rejected with a message.
struct FlatJSONObject {
    enum Value {
        case string(String)
        case integer(Int64)
        case bool(Bool)
        case null
        case other(String)
    }

    private var fields: [(key: String, value: Value)] = []

    init(parsing text: String) throws(TraceFormatError) {
        var bytes = Array(text.utf8)
        while let last = bytes.last, last == UInt8(ascii: "\r") || last == UInt8(ascii: " ") { bytes.removeLast() }
        var i = 0
        func skipSpace() { while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 } }
        func expect(_ c: UInt8, _ what: String) throws(TraceFormatError) {
            skipSpace()
            guard i < bytes.count, bytes[i] == c else {
                throw TraceFormatError("expected \(what) at column \(i + 1)")
            }
            i += 1
        }
        func parseString() throws(TraceFormatError) -> String {
            try expect(UInt8(ascii: "\""), "a string")
            var out: [UInt8] = []
            while i < bytes.count {
                let c = bytes[i]
                i += 1
                if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if c == UInt8(ascii: "\\") {
                    guard i < bytes.count else { break }
                    let e = bytes[i]
                    i += 1
                    switch e {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "u"):
                        guard i + 4 <= bytes.count,
                              let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16),
                              let scalar = Unicode.Scalar(v)
                        else { throw TraceFormatError("bad \\u escape at column \(i)") }
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                        i += 4
                    default: out.append(e)
                    }
                } else {
                    out.append(c)
                }
            }
            throw TraceFormatError("unterminated string")
        }
        try expect(UInt8(ascii: "{"), "'{' (each line is one JSON object)")
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                let key = try parseString()
                try expect(UInt8(ascii: ":"), "':' after \"\(key.excerpt)\"")
                skipSpace()
                guard i < bytes.count else { throw TraceFormatError("missing value for \"\(key.excerpt)\"") }
                let value: Value
                switch bytes[i] {
                case UInt8(ascii: "\""):
                    value = .string(try parseString())
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    let start = i
                    i += 1
                    while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i])
                        || bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")
                        || bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                    let literal = String(decoding: bytes[start..<i], as: UTF8.self)
                    value = Int64(literal).map(Value.integer) ?? .other(literal)
                case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                    let start = i
                    while i < bytes.count, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[i]) { i += 1 }
                    switch String(decoding: bytes[start..<i], as: UTF8.self) {
                    case "true": value = .bool(true)
                    case "false": value = .bool(false)
                    case "null": value = .null
                    case let word: throw TraceFormatError("unexpected '\(word.excerpt)' as the value of \"\(key.excerpt)\"")
                    }
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    throw TraceFormatError("\"\(key.excerpt)\" holds an object or array; trace lines are flat")
                default:
                    throw TraceFormatError("unexpected character at column \(i + 1) in the value of \"\(key.excerpt)\"")
                }
                fields.append((key, value))
                skipSpace()
                guard i < bytes.count else { throw TraceFormatError("line ends inside the object (missing '}')") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; break }
                throw TraceFormatError("expected ',' or '}' at column \(i + 1)")
            }
        }
        skipSpace()
        guard i == bytes.count else { throw TraceFormatError("text after the object at column \(i + 1)") }
    }

    private func value(_ key: String) -> Value? { fields.last { $0.key == key }?.value }

    func string(_ key: String) throws(TraceFormatError) -> String {
        guard let v = value(key) else { throw TraceFormatError("missing \"\(key.excerpt)\"") }
        guard case .string(let s) = v else { throw TraceFormatError("\"\(key.excerpt)\" must be a string") }
        return s
    }

    func integer(_ key: String, in range: ClosedRange<Int64>) throws(TraceFormatError) -> Int64 {
        guard let v = try optionalInteger(key, in: range) else { throw TraceFormatError("missing \"\(key.excerpt)\"") }
        return v
    }

    func optionalInteger(_ key: String, in range: ClosedRange<Int64>) throws(TraceFormatError) -> Int64? {
        guard let v = value(key) else { return nil }
        if case .null = v { return nil }
        guard case .integer(let n) = v, range.contains(n) else {
            throw TraceFormatError("\"\(key.excerpt)\" must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    func bool(_ key: String) throws(TraceFormatError) -> Bool {
        guard let v = value(key) else { throw TraceFormatError("missing \"\(key.excerpt)\"") }
        guard case .bool(let b) = v else { throw TraceFormatError("\"\(key.excerpt)\" must be true or false") }
        return b
    }
}
