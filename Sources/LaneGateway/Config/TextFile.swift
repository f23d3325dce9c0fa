#if canImport(Glibc)
import Glibc
#endif

public struct FileError: Error, CustomStringConvertible {
    public var description: String
}

/// Reads a whole file as UTF-8 (invalid bytes become U+FFFD).
public func readTextFile(_ path: String) throws -> String {
    String(decoding: try readFileBytes(path), as: UTF8.self)
}

/// A bearer token file's token: whitespace and the final newline ignored.
public func readTokenFile(_ path: String) throws -> String {
    readTokenText(try readFileBytes(path))
}

func readTokenText(_ bytes: [UInt8]) -> String {
    String(String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace })
}

public func readFileBytes(_ path: String) throws -> [UInt8] {
    guard let f = fopen(path, "rb") else { throw FileError(description: "\(path): \(String(cString: strerror(errno)))") }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
        if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
        if n < chunk.count {
            if ferror(f) != 0 { throw FileError(description: "\(path): \(String(cString: strerror(errno)))") }
            return bytes
        }
    }
}
