import Glibc

/// A bare TCP connection to loopback, for clients that do not speak HTTP properly.
public final class RawConnection: @unchecked Sendable {
    public let fd: Int32
    public let connected: Bool

    public init(port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    deinit { close() }

    private var closed = false
    public func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    public func send(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } > 0
    }

    /// True when the peer has closed (or reset) the connection; never waits, so that a test
    /// holding hundreds of these does not hold a thread of the cooperative pool.
    public var closedByPeer: Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 0) > 0 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_DONTWAIT)) <= 0
    }
}

/// `count` distinct loopback TCP ports nothing listens on now, as the kernel picks them for binds
/// to port 0 (each held until all are picked, so none repeats). A random port is no such thing:
/// one in the ephemeral range (32768–60999) may be any connection's local end while the whole
/// suite runs, and a server then cannot bind it.
public func freeLoopbackPorts(_ count: Int) throws -> [Int] {
    var sockets: [Int32] = []
    defer { sockets.forEach { close($0) } }
    return try (0..<count).map { _ in
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        sockets.append(fd)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw TestSetupError("no free loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// One such port.
public func freeLoopbackPort() throws -> Int { try freeLoopbackPorts(1)[0] }

/// Where to draw a port for a server a test stops and starts again on the same port: below
/// Linux's ephemeral range, so no outbound connection can take it while the server is down.
public let restartablePorts = 20_000..<32_000
