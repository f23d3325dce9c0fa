import TOMLKit

/// Typed access to a parsed TOML file for a validating reader: each failure is recorded with
/// its key path and line, and reading goes on, so one run reports every problem in the file.
public protocol TOMLFieldReader {
    var file: String { get }
    var locator: TOMLKeyLocator { get }
    var errors: [ConfigError] { get set }
}

extension TOMLFieldReader {
    public mutating func fail(_ path: String, _ message: String) {
        errors.append(ConfigError(file: file, line: locator.line(of: path), key: path, message: message))
    }

    public mutating func checkKeys(_ t: TOMLTable, path: String, allowed: Set<String>) {
        for key in t.keys where !allowed.contains(key) {
            let full = path.isEmpty ? key : "\(path).\(key)"
            fail(full, "unknown key; allowed here: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    public mutating func table(_ t: TOMLTable, _ key: String, path: String, required: Bool) -> TOMLTable? {
        guard let v = t[key] else {
            if required { fail(path, "missing table [\(path)]") }
            return nil
        }
        guard let table = v.table else { fail(path, "must be a table"); return nil }
        return table
    }

    /// An array of tables (`[[key]]` or `key = [{…}, …]`); empty when absent.
    public mutating func tables(_ t: TOMLTable, _ key: String, path: String) -> [TOMLTable] {
        guard let v = t[key] else { return [] }
        guard let array = v.array else { fail(path, "must be an array of tables ([[\(path)]])"); return [] }
        var out: [TOMLTable] = []
        for (i, element) in array.enumerated() {
            guard let table = element.table else { fail("\(path)[\(i)]", "must be a table"); continue }
            out.append(table)
        }
        return out
    }

    public mutating func string(_ t: TOMLTable, _ key: String, path: String, required: Bool = true) -> String? {
        guard let v = t[key] else {
            if required { fail(path, "missing (a string)") }
            return nil
        }
        guard let s = v.string else { fail(path, "must be a string"); return nil }
        return s
    }

    /// One string, or a list of them (`key = "a"` or `key = ["a", "b"]`); nil when absent.
    public mutating func stringOrStrings(_ t: TOMLTable, _ key: String, path: String) -> [String]? {
        guard let v = t[key] else {
            fail(path, "missing (a string, or a list of strings)")
            return nil
        }
        if let s = v.string { return [s] }
        guard let array = v.array, !array.isEmpty else { fail(path, "must be a string, or a non-empty list of strings"); return nil }
        var out: [String] = []
        for (i, element) in array.enumerated() {
            guard let s = element.string else { fail("\(path)[\(i)]", "must be a string"); continue }
            out.append(s)
        }
        return out
    }

    public mutating func bool(_ t: TOMLTable, _ key: String, path: String) -> Bool? {
        guard let v = t[key] else { return nil }
        guard let b = v.bool else { fail(path, "must be true or false"); return nil }
        return b
    }

    public mutating func integer(_ t: TOMLTable, _ key: String, path: String, in range: ClosedRange<Int>) -> Int? {
        guard let v = t[key] else { return nil }
        guard let n = v.int, range.contains(n) else {
            fail(path, "must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(excerpt(v.debugDescription))")
            return nil
        }
        return n
    }

    public mutating func integers(_ t: TOMLTable, _ key: String, path: String, in range: ClosedRange<Int>) -> [Int] {
        guard let v = t[key] else { fail(path, "missing (a list of whole numbers)"); return [] }
        guard let array = v.array else { fail(path, "must be a list such as [1, 2]"); return [] }
        var out: [Int] = []
        for (i, element) in array.enumerated() {
            guard let n = element.int, range.contains(n) else {
                fail("\(path)[\(i)]", "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
                continue
            }
            out.append(n)
        }
        return out
    }
}

/// A value as an error message shows it: whole when short, else its start and its size.
func excerpt(_ text: String) -> String {
    guard text.utf8.count > 64 else { return text }
    return String(text.prefix(48)) + "… (\(text.utf8.count) bytes)"
}
