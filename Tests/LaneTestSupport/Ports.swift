import Glibc

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
