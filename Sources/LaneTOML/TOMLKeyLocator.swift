/// Finds the line a key path (`lanes[0].read_points[1].depart_after`) was written on, so a
/// validation error can name it. The TOML parser reports positions for syntax errors only.
///
/// It follows table headers (`[a]`, `[[a.b]]`, counting each array-of-tables entry) and
/// `key = value` lines; keys inside inline tables resolve to the line of the enclosing key.
public struct TOMLKeyLocator: Sendable {
    private var lines: [String: Int] = [:]

    public init(text: String) {
        var current = ""
        var arrayCounts: [String: Int] = [:]
        // Maps a header's dotted name (e.g. "lanes.read_points") to its current indexed path.
        var resolved: [String: String] = [:]
        for (n, raw) in text.textLines.enumerated() {
            let line = raw.trimmingSpaces()
            let number = n + 1
            if line.hasPrefix("[[") , let end = line.firstRange(of: "]]") {
                let name = String(line[line.index(line.startIndex, offsetBy: 2)..<end.lowerBound]).trimmingSpaces()
                let parentName = name.split(separator: ".").dropLast().joined(separator: ".")
                let leaf = String(name.split(separator: ".").last ?? "")
                let parent = parentName.isEmpty ? "" : (resolved[parentName] ?? parentName)
                let arrayPath = parent.isEmpty ? leaf : parent + "." + leaf
                let index = arrayCounts[arrayPath, default: 0]
                arrayCounts[arrayPath] = index + 1
                current = "\(arrayPath)[\(index)]"
                resolved[name] = current
                lines[current] = number
            } else if line.hasPrefix("["), let end = line.firstIndex(of: "]") {
                let name = String(line[line.index(after: line.startIndex)..<end]).trimmingSpaces()
                current = name
                resolved[name] = name
                lines[current] = number
            } else if !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") {
                let key = String(line[..<eq]).trimmingSpaces().replacingQuotes()
                guard !key.isEmpty else { continue }
                lines[current.isEmpty ? key : current + "." + key] = number
            }
        }
    }

    /// The line of `path`, else of the nearest enclosing key or table that has one.
    public func line(of path: String) -> Int? {
        var p = path
        while !p.isEmpty {
            if let n = lines[p] { return n }
            // Drop the last component: an index "[n]" or a ".key".
            if p.hasSuffix("]"), let bracket = p.lastIndex(of: "[") {
                p = String(p[..<bracket])
            } else if let dot = p.lastIndex(of: ".") {
                p = String(p[..<dot])
            } else {
                return nil
            }
        }
        return nil
    }
}

extension StringProtocol {
    public func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }

    public func replacingQuotes() -> String { String(filter { $0 != "\"" && $0 != "'" }) }
}
