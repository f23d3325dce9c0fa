/// The leaf elements of a small XML document, each with its path from the root (namespace
/// prefixes dropped) and its text, in document order. Enough for a camera's event and no more:
/// no DTDs (a `<!DOCTYPE` is refused, so no entity can expand), no namespaces resolved, bounded
/// depth and element count.
public enum XMLLeaves {
    public struct Leaf: Sendable, Equatable {
        public var path: String
        public var text: String
    }

    static let maxDepth = 32
    static let maxElements = 4096

    public static func scan(_ bytes: [UInt8]) throws(PlateReportError) -> [Leaf] {
        var leaves: [Leaf] = []
        var stack: [(name: String, hasChildren: Bool)] = []
        var text: [UInt8] = []
        var elements = 0
        var sawRoot = false
        var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0  // a byte-order mark
        func fail(_ why: String) -> PlateReportError { PlateReportError(.malformed, "XML: \(why) (byte \(i))") }

        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "<") else {
                let end = bytes[i...].firstIndex(of: UInt8(ascii: "<")) ?? bytes.count
                if stack.isEmpty {
                    guard bytes[i..<end].allSatisfy(isSpace) else { throw fail("text outside the root element") }
                } else {
                    text += try decode(bytes[i..<end])
                }
                i = end
                continue
            }
            if bytes.hasBytes("<!--", at: i) {
                guard let end = find(bytes, "-->", from: i + 4) else { throw fail("a comment does not end") }
                i = end + 3
            } else if bytes.hasBytes("<![CDATA[", at: i) {
                guard let end = find(bytes, "]]>", from: i + 9) else { throw fail("a CDATA section does not end") }
                guard !stack.isEmpty else { throw fail("CDATA outside the root element") }
                text += bytes[(i + 9)..<end]  // literal: no entities
                i = end + 3
            } else if bytes.hasBytes("<?", at: i) {
                guard let end = find(bytes, "?>", from: i + 2) else { throw fail("a processing instruction does not end") }
                i = end + 2
            } else if bytes.hasBytes("<!", at: i) {
                throw fail("DTDs and declarations are not accepted")
            } else if bytes.hasBytes("</", at: i) {
                guard let end = bytes[i...].firstIndex(of: UInt8(ascii: ">")) else { throw fail("an end tag does not end") }
                let name = localName(bytes[(i + 2)..<end])
                guard let open = stack.popLast(), open.name == name else { throw fail("</\(name)> closes nothing open") }
                if !open.hasChildren {
                    let path = (stack.map(\.name) + [name]).joined(separator: "/")
                    leaves.append(Leaf(path: path, text: String(String(decoding: text, as: UTF8.self).trimmingASCIISpaces())))
                }
                text = []
                i = end + 1
            } else {
                let end = try tagEnd(bytes, from: i + 1)
                let selfClosing = bytes[end - 1] == UInt8(ascii: "/")
                let nameEnd = bytes[(i + 1)..<end].firstIndex(where: { isSpace($0) || $0 == UInt8(ascii: "/") }) ?? end
                let name = localName(bytes[(i + 1)..<nameEnd])
                guard !name.isEmpty else { throw fail("a tag without a name") }
                guard !(stack.isEmpty && sawRoot) else { throw fail("a second root element") }
                elements += 1
                guard elements <= maxElements else { throw PlateReportError(.tooLarge, "XML: more than \(maxElements) elements") }
                if !stack.isEmpty { stack[stack.count - 1].hasChildren = true }
                sawRoot = true
                text = []
                if selfClosing {
                    leaves.append(Leaf(path: (stack.map(\.name) + [name]).joined(separator: "/"), text: ""))
                } else {
                    guard stack.count < maxDepth else { throw PlateReportError(.tooLarge, "XML: deeper than \(maxDepth) elements") }
                    stack.append((name, false))
                }
                i = end + 1
            }
        }
        guard sawRoot else { throw PlateReportError(.malformed, "XML: no root element") }
        guard stack.isEmpty else { throw PlateReportError(.malformed, "XML: <\(stack.last!.name)> is not closed") }
        return leaves
    }

    /// The `>` that ends a start tag, past quoted attribute values (which may hold `>`).
    private static func tagEnd(_ bytes: [UInt8], from start: Int) throws(PlateReportError) -> Int {
        var quote: UInt8?
        var i = start
        while i < bytes.count {
            let c = bytes[i]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                quote = c
            } else if c == UInt8(ascii: ">") {
                return i
            } else if c == UInt8(ascii: "<") {
                break
            }
            i += 1
        }
        throw PlateReportError(.malformed, "XML: a start tag does not end (byte \(start))")
    }

    private static func localName(_ raw: ArraySlice<UInt8>) -> String {
        let trimmed = raw.filter { !isSpace($0) }
        let local = trimmed.lastIndex(of: UInt8(ascii: ":")).map { trimmed[($0 + 1)...] } ?? trimmed[...]
        return String(decoding: local, as: UTF8.self)
    }

    /// Text with its five named entities and numeric references replaced.
    private static func decode(_ text: ArraySlice<UInt8>) throws(PlateReportError) -> [UInt8] {
        guard text.contains(UInt8(ascii: "&")) else { return Array(text) }
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            guard c == UInt8(ascii: "&") else { out.append(c); i += 1; continue }
            guard let semicolon = text[i...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
                throw PlateReportError(.malformed, "XML: a bare & (byte \(i))")
            }
            let entity = String(decoding: text[(i + 1)..<semicolon], as: UTF8.self)
            switch entity {
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "amp": out.append(UInt8(ascii: "&"))
            case "quot": out.append(UInt8(ascii: "\""))
            case "apos": out.append(UInt8(ascii: "'"))
            default:
                let number = entity.hasPrefix("#x") ? UInt32(entity.dropFirst(2), radix: 16)
                    : entity.hasPrefix("#") ? UInt32(entity.dropFirst(), radix: 10) : nil
                guard let number, let scalar = Unicode.Scalar(number) else {
                    throw PlateReportError(.malformed, "XML: unknown entity &\(entity); (byte \(i))")
                }
                out += Array(String(Character(scalar)).utf8)
            }
            i = semicolon + 1
        }
        return out
    }

    private static func find(_ bytes: [UInt8], _ text: StaticString, from start: Int) -> Int? {
        SubsequenceFinder(text.withUTF8Buffer { Array($0) }).first(in: bytes, from: start)
    }

    private static func isSpace(_ c: UInt8) -> Bool {
        c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") || c == UInt8(ascii: "\n")
    }
}
