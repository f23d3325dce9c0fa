#if canImport(Glibc)
import Glibc
#endif
import LaneCore

/// A link over a non-blocking file descriptor (terminal, socket), waiting with `poll`.
public class FileDescriptorLink: ByteLink {
    public let name: String
    private(set) var fd: Int32

    init(fd: Int32, name: String) {
        self.fd = fd
        self.name = name
    }

    deinit { close() }

    public func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Nanoseconds) throws(LinkError) -> Int {
        guard fd >= 0 else { throw .closed(name) }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let millis = Int32(clamping: max(0, timeout / 1_000_000))
        let ready = poll(&pfd, 1, millis)
        if ready < 0 {
            if errno == EINTR { return 0 }
            throw .system(operation: "poll \(name)", errno: errno)
        }
        if ready == 0 { return 0 }
        let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
        if n > 0 { return n }
        if n == 0 { throw .closed(name) }
        switch errno {
        case EAGAIN, EINTR: return 0
        // A pty whose other side closed, or an unplugged USB serial adapter.
        case EIO, ENXIO, ENODEV, ECONNRESET: throw .closed(name)
        default: throw .system(operation: "read \(name)", errno: errno)
        }
    }

    public func write(_ bytes: [UInt8]) throws(LinkError) {
        guard fd >= 0 else { throw .closed(name) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 { offset += n; continue }
            switch errno {
            case EINTR: continue
            case EAGAIN:
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&pfd, 1, 1000) == 0 { throw .timedOut("write to \(name)") }
            case EIO, ENXIO, ENODEV, EPIPE, ECONNRESET: throw .closed(name)
            default: throw .system(operation: "write \(name)", errno: errno)
            }
        }
    }

    public func setBaud(_ baud: Int) throws(LinkError) {}

    public func discardInput() {
        guard fd >= 0 else { return }
        var scratch = [UInt8](repeating: 0, count: 4096)
        while scratch.withUnsafeMutableBytes({ Glibc.read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }

    public func close() {
        guard fd >= 0 else { return }
        _ = Glibc.close(fd)
        fd = -1
    }
}

func systemErrorText(_ code: Int32) -> String {
    String(cString: strerror(code))
}
