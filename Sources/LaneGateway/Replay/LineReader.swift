#if canImport(Glibc)
import Glibc
#endif

/// Reads a text file line by line with getline(3): a trace of millions of lines never sits in
/// memory whole. "-" reads standard input.
final class LineReader {
    private let file: UnsafeMutablePointer<FILE>
    private let ownsFile: Bool
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0
    private(set) var lineNumber = 0

    init(path: String) throws {
        if path == "-" {
            guard let f = fdopen(0, "rb") else { throw FileError(description: "cannot read standard input") }
            file = f
            ownsFile = false
        } else {
            guard let f = fopen(path, "rb") else { throw FileError(description: String(cString: strerror(errno))) }
            file = f
            ownsFile = true
        }
    }

    deinit {
        free(buffer)
        if ownsFile { fclose(file) }
    }

    /// The next line's bytes without its newline, or nil at the end. They stay valid until the
    /// next call: the replay parses them in place.
    func nextBytes() -> UnsafeBufferPointer<UInt8>? {
        let n = getline(&buffer, &capacity, file)
        guard n >= 0, let buffer else { return nil }
        lineNumber += 1
        let length = n > 0 && buffer[n - 1] == 0x0A ? n - 1 : n
        return UnsafeBufferPointer(start: UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self), count: length)
    }
}
