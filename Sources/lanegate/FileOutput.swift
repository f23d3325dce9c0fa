#if canImport(Glibc)
import Glibc
#endif

/// Buffered writes to a file descriptor: printing millions of event lines through `print`
/// would cost more than the replay itself.
final class FileOutput: @unchecked Sendable {
    // @unchecked: each instance is used from the main thread only.
    static let standardOutput = FileOutput(fd: 1)
    static let standardError = FileOutput(fd: 2, unbuffered: true)

    private let fd: Int32
    private let unbuffered: Bool
    private var buffer: [UInt8] = []

    init(fd: Int32, unbuffered: Bool = false) {
        self.fd = fd
        self.unbuffered = unbuffered
        buffer.reserveCapacity(1 << 16)
    }

    /// A file created (or truncated) for writing; nil when that is refused.
    convenience init?(path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        self.init(fd: fd)
    }

    func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if unbuffered || buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        var offset = 0
        while offset < buffer.count {
            let n = buffer[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }  // a closed pipe: nothing more to say
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

func exitProcess(_ code: Int32) -> Never {
    FileOutput.standardOutput.flush()
    exit(code)
}
