#if canImport(Glibc)
import Glibc
#endif
import LaneCore

/// The sd_notify protocol, without libsystemd: datagrams such as `READY=1`, `STATUS=…`,
/// `WATCHDOG=1` and `STOPPING=1` to the unix socket systemd names in `$NOTIFY_SOCKET` (a path,
/// or an abstract name when it starts with `@`). Outside systemd there is no socket and every
/// call does nothing.
public struct SystemdNotifier: Sendable {
    private let address: [UInt8]?

    /// Reads `$NOTIFY_SOCKET` (and `$WATCHDOG_USEC`, see ``watchdogInterval``).
    public init(environment: [String: String] = SystemdNotifier.processEnvironment()) {
        guard let name = environment["NOTIFY_SOCKET"], !name.isEmpty,
              name.hasPrefix("/") || name.hasPrefix("@") else {
            address = nil
            watchdogInterval = nil
            return
        }
        var bytes = Array(name.utf8)
        if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace
        address = bytes
        if let usec = environment["WATCHDOG_USEC"].flatMap({ Int64($0) }), usec > 0,
           environment["WATCHDOG_PID"].flatMap({ Int32($0) }).map({ $0 == getpid() }) ?? true {
            watchdogInterval = usec * 1000 / 2
        } else {
            watchdogInterval = nil
        }
    }

    /// How often to send `WATCHDOG=1`: half of `WatchdogSec=`, or nil when no watchdog is set.
    public let watchdogInterval: Nanoseconds?

    public var isActive: Bool { address != nil }

    public func ready(status: String) { send("READY=1\nSTATUS=\(oneLine(status))") }
    public func status(_ text: String) { send("STATUS=\(oneLine(text))") }
    public func watchdog() { send("WATCHDOG=1") }
    public func stopping(status: String) { send("STOPPING=1\nSTATUS=\(oneLine(status))") }
    public func reloading() { send("RELOADING=1") }

    /// Sends one datagram; false when there is no socket or it could not be delivered.
    @discardableResult
    public func send(_ message: String) -> Bool {
        guard let address else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: socketAddress.sun_path)
        guard address.count < capacity else { return false }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { raw in
            for (i, byte) in address.enumerated() { raw[i] = byte }
        }
        // Abstract names are exactly as long as given; paths end at their terminating zero.
        let length = socklen_t(MemoryLayout<sa_family_t>.size + address.count + (address[0] == 0 ? 0 : 1))
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &socketAddress) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), target, length) }
            }
        }
        return sent == bytes.count
    }

    private func oneLine(_ text: String) -> String {
        String(text.map { $0 == "\n" ? " " : $0 })
    }

    public static func processEnvironment() -> [String: String] {
        var out: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                out[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return out
    }
}
