import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Collects the datagrams sent to a unix socket path, as systemd's notify socket would.
public final class DatagramSink: @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()
    private var messages: [String] = []
    private var thread: Thread?

    public init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        let socketFD = fd
        thread = Thread { [weak self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(socketFD, &buffer, buffer.count, 0)
                guard n > 0, let self else { return }
                self.lock.withLock { self.messages.append(String(decoding: buffer.prefix(n), as: UTF8.self)) }
            }
        }
        thread?.start()
    }

    deinit { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }

    public var received: [String] { lock.withLock { messages } }
}
