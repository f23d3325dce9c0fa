#if canImport(Glibc)
import Glibc
#endif
import LaneCore

/// A listening TCP socket on loopback for a network-device simulator.
public final class TCPListener: @unchecked Sendable {
    private let fd: Int32
    public let port: UInt16

    /// `port` 0 picks a free one.
    public init(port: UInt16 = 0) throws(SimulatorError) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", errno) }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            close(fd)
            throw .system("bind/listen 127.0.0.1:\(port)", errno)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }

    /// A new connection, or nil after `timeout`.
    public func accept(timeout: Nanoseconds) -> TCPPeer? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(timeout / 1_000_000)) == 1 else { return nil }
        let peer = Glibc.accept(fd, nil, nil)
        guard peer >= 0 else { return nil }
        _ = fcntl(peer, F_SETFD, FD_CLOEXEC)  // Glibc has no accept4; a child spawned meanwhile would keep it
        return TCPPeer(fd: peer)
    }
}

/// One accepted connection, seen from the device side.
public final class TCPPeer: @unchecked Sendable {
    private var fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close() }

    public var isOpen: Bool { fd >= 0 }

    /// Bytes from the client; empty on timeout; nil once the client has gone.
    public func read(timeout: Nanoseconds) -> [UInt8]? {
        guard fd >= 0 else { return nil }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(timeout / 1_000_000)) == 1 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 8192)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        return n > 0 ? Array(buffer.prefix(n)) : nil
    }

    /// Sends `bytes`. A client that takes none of them for two seconds while the socket's
    /// buffer is full is treated as gone and the connection is closed, as a reader would: the
    /// device thread must never block on a client that stopped reading.
    public func write(_ bytes: [UInt8]) {
        guard fd >= 0 else { return }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if n > 0 { offset += n; continue }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard n < 0, errno == EAGAIN || errno == EINTR, poll(&pfd, 1, 2000) == 1, pfd.revents & Int16(POLLOUT) != 0 else {
                close()
                return
            }
        }
    }

    public func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }
}
