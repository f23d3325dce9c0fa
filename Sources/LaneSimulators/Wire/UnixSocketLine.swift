#if canImport(Glibc)
import Glibc
#endif
import LaneCore
import Synchronization

/// A serial line carried over a unix stream socket that someone else listens on (QEMU's chardev
/// behind its emulated FTDI adapter). Connects, and reconnects after the far end restarts.
public final class UnixSocketLine: SerialLine, @unchecked Sendable {
    public let path: String
    private let fd = Mutex<Int32>(-1)
    private let plugged = Atomic<Bool>(true)

    public init(path: String) {
        self.path = path
    }

    deinit { unplug() }

    public var driverBaud: Int? { nil }

    public func read(timeout: Nanoseconds) -> [UInt8] {
        guard let socket = connected() else {
            var pause = timespec(tv_sec: 0, tv_nsec: Int(min(timeout, .milliseconds(50))))
            nanosleep(&pause, nil)
            return []
        }
        var pfd = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(timeout / 1_000_000)) == 1 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(socket, $0.baseAddress, $0.count) }
        if n <= 0 { drop(); return [] }
        return Array(buffer.prefix(n))
    }

    public func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, let socket = connected() else { return }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { drop(); return }
            offset += n
        }
    }

    public func unplug() {
        plugged.store(false, ordering: .releasing)
        drop()
    }

    public func plug() throws(SimulatorError) { plugged.store(true, ordering: .releasing) }

    private func drop() {
        fd.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    private func connected() -> Int32? {
        guard plugged.load(ordering: .acquiring) else { return nil }
        return fd.withLock { fd -> Int32? in
            if fd >= 0 { return fd }
            let socket = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard socket >= 0 else { return nil }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard result == 0 else { close(socket); return nil }
            fd = socket
            return socket
        }
    }
}
