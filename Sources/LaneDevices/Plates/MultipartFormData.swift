/// `multipart/form-data` (RFC 7578), as cameras push their events: parts cut out of a body that
/// is already whole (the listener bounds its size), each with its name, file name and type.
public enum MultipartFormData {
    public struct Part: Sendable, Equatable {
        public var name: String?
        public var filename: String?
        public var contentType: String?
        public var body: [UInt8]
    }

    /// An event has an XML or JSON part and a few pictures; more is not a camera's event.
    public static let maxParts = 16
    static let maxHeaderBytes = 4096

    /// The boundary of a `multipart/…` content type, nil for any other type.
    public static func boundary(contentType: String) -> String? {
        let fields = contentType.split(separator: ";").map { $0.trimmingASCIISpaces() }
        guard let type = fields.first, type.lowercased().hasPrefix("multipart/") else { return nil }
        for field in fields.dropFirst() {
            guard let eq = field.firstIndex(of: "="), field[..<eq].trimmingASCIISpaces().lowercased() == "boundary" else { continue }
            var value = field[field.index(after: eq)...].trimmingASCIISpaces()
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
            // RFC 2046: 1 to 70 characters.
            return (1...70).contains(value.utf8.count) ? String(value) : nil
        }
        return nil
    }

    /// The parts of `body`, whose delimiter is `--boundary`. Lines may end in CRLF or, from
    /// careless senders, LF alone.
    public static func parts(_ body: [UInt8], boundary: String) throws(PlateReportError) -> [Part] {
        let delimiter = Array("--\(boundary)".utf8)
        let finder = SubsequenceFinder(delimiter)
        guard var at = finder.first(in: body, from: 0) else { throw PlateReportError(.malformed, "no \"--\(boundary)\" delimiter in the body") }
        var parts: [Part] = []
        while true {
            var cursor = at + delimiter.count
            if body.hasBytes("--", at: cursor) { return parts }
            cursor = try skipLineEnd(body, cursor, after: "a delimiter")
            guard parts.count < maxParts else { throw PlateReportError(.tooLarge, "more than \(maxParts) parts") }
            // The part's headers, up to an empty line.
            var part = Part(body: [])
            let headersStart = cursor
            while true {
                guard cursor - headersStart <= maxHeaderBytes else { throw PlateReportError(.tooLarge, "a part's headers exceed \(maxHeaderBytes) bytes") }
                guard let end = body[cursor...].firstIndex(of: UInt8(ascii: "\n")) else {
                    throw PlateReportError(.malformed, "a part's headers do not end")
                }
                var line = body[cursor..<end]
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                cursor = end + 1
                if line.isEmpty { break }
                header(String(decoding: line, as: UTF8.self), into: &part)
            }
            // Its content, up to the line end before the next delimiter.
            guard let next = finder.first(in: body, from: cursor) else { throw PlateReportError(.malformed, "the last part has no closing delimiter") }
            var end = next
            if end > cursor, body[end - 1] == UInt8(ascii: "\n") { end -= 1 }
            if end > cursor, body[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            part.body = Array(body[cursor..<end])
            parts.append(part)
            at = next
        }
    }

    private static func skipLineEnd(_ body: [UInt8], _ at: Int, after what: String) throws(PlateReportError) -> Int {
        // Transport padding (spaces, tabs) may follow a delimiter.
        var i = at
        while i < body.count, body[i] == UInt8(ascii: " ") || body[i] == UInt8(ascii: "\t") { i += 1 }
        if body.hasBytes("\r\n", at: i) { return i + 2 }
        if body.hasBytes("\n", at: i) { return i + 1 }
        throw PlateReportError(.malformed, "no line end after \(what)")
    }

    private static func header(_ line: String, into part: inout Part) {
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingASCIISpaces().lowercased()
        let value = line[line.index(after: colon)...].trimmingASCIISpaces()
        switch name {
        case "content-type": part.contentType = String(value)
        case "content-disposition":
            for field in value.split(separator: ";").dropFirst() {
                guard let eq = field.firstIndex(of: "=") else { continue }
                let key = field[..<eq].trimmingASCIISpaces().lowercased()
                var v = field[field.index(after: eq)...].trimmingASCIISpaces()
                if v.count >= 2, v.hasPrefix("\""), v.hasSuffix("\"") { v = v.dropFirst().dropLast() }
                if key == "name" { part.name = String(v) } else if key == "filename" { part.filename = String(v) }
            }
        default: break
        }
    }
}

/// Finds a byte string in a body in linear time (Knuth–Morris–Pratt), whatever the body holds:
/// a hostile body of near-delimiters costs no more than any other.
struct SubsequenceFinder {
    let needle: [UInt8]
    private let fallback: [Int]

    init(_ needle: [UInt8]) {
        self.needle = needle
        var fallback = [Int](repeating: 0, count: needle.count)
        var k = 0
        for i in needle.indices.dropFirst() {
            while k > 0, needle[i] != needle[k] { k = fallback[k - 1] }
            if needle[i] == needle[k] { k += 1 }
            fallback[i] = k
        }
        self.fallback = fallback
    }

    func first(in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty else { return start }
        var k = 0
        var i = start
        while i < haystack.count {
            while k > 0, haystack[i] != needle[k] { k = fallback[k - 1] }
            if haystack[i] == needle[k] { k += 1 }
            if k == needle.count { return i - k + 1 }
            i += 1
        }
        return nil
    }
}

extension [UInt8] {
    func hasBytes(_ text: StaticString, at index: Int) -> Bool {
        let n = text.utf8CodeUnitCount
        guard index >= 0, index + n <= count else { return false }
        return text.withUTF8Buffer { expected in (0..<n).allSatisfy { self[index + $0] == expected[$0] } }
    }
}

extension StringProtocol {
    func trimmingASCIISpaces() -> SubSequence {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return self[endIndex...] }
        return self[first...last]
    }
}
