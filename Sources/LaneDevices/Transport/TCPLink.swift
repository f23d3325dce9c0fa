#if canImport(Glibc)
import Glibc
#endif
import LaneCore

/// A TCP connection to a network reader, with a bounded connect and keepalive probes, so a
/// cable pulled mid-session is noticed by the kernel as well as by the protocol.
public final class TCPLink: FileDescriptorLink {
    public init(host: String, port: UInt16, connectTimeout: Nanoseconds = .seconds(5)) throws(LinkError) {
        let name = "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw .notFound("\(name) (\(String(cString: gai_strerror(status))))")
        }
        defer { freeaddrinfo(list) }
        var lastError: LinkError = .notFound(name)
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue),
                            info.pointee.ai_protocol)
            guard fd >= 0 else { lastError = .system(operation: "socket", errno: errno); continue }
            if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 || errno == EINPROGRESS {
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&pfd, 1, Int32(clamping: connectTimeout / 1_000_000))
                var soError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
                if ready == 1 && soError == 0 {
                    Self.tune(fd)
                    super.init(fd: fd, name: name)
                    return
                }
                lastError = ready == 0 ? .timedOut("connect to \(name)")
                    : soError == ECONNREFUSED ? .notFound("\(name) (connection refused)")
                    : .system(operation: "connect \(name)", errno: soError)
            } else {
                lastError = .system(operation: "connect \(name)", errno: errno)
            }
            Glibc.close(fd)
        }
        throw lastError
    }

    private static func tune(_ fd: Int32) {
        var on: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, size)
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, size)
        var idle: Int32 = 10, interval: Int32 = 5, count: Int32 = 3
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, size)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, &interval, size)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, &count, size)
    }
}
