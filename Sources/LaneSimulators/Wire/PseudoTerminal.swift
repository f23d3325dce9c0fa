#if canImport(Glibc)
import Glibc
#endif
import CLaneSystem
import LaneCore
import Synchronization

/// The device end of a serial line: a pty master whose slave the driver opens like any
/// `/dev/ttyUSB0`. A stable symlink (`link`) stands in for the udev symlink, so an "unplugged"
/// device can come back on a fresh pty under the same name, as a replugged adapter does.
public final class PseudoTerminal: @unchecked Sendable {
    public let link: String
    // Unplugged from the test's thread while the simulator's thread reads and writes.
    private let masterFD = Atomic<Int32>(-1)
    var master: Int32 { masterFD.load(ordering: .acquiring) }
    public private(set) var slavePath = ""

    public init(link: String) throws(SimulatorError) {
        self.link = link
        try plug()
    }

    deinit { unplug() }

    /// Creates a fresh pty and points `link` at it.
    public func plug() throws(SimulatorError) {
        unplug()
        var path = [CChar](repeating: 0, count: 128)
        let fd = lanegate_open_pty(&path, path.count)
        guard fd >= 0 else { throw .system("open a pty", -fd) }
        masterFD.store(fd, ordering: .releasing)
        slavePath = String(decoding: path.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        unlink(link)
        guard symlink(slavePath, link) == 0 else { throw .system("symlink \(link)", errno) }
    }

    /// Closes the master: the driver's reads fail at once, as when a USB adapter is pulled.
    public func unplug() {
        let fd = masterFD.exchange(-1, ordering: .acquiringAndReleasing)
        guard fd >= 0 else { return }
        close(fd)
        unlink(link)
    }

    public var isPlugged: Bool { master >= 0 }

    /// The line speed the driver set on its end (Linux reports the slave's settings through the
    /// master), so a simulator can answer only at its own baud, as a real UART would.
    public var driverBaud: Int? {
        guard master >= 0 else { return nil }
        var options = termios()
        guard tcgetattr(master, &options) == 0 else { return nil }
        return Self.baud(cfgetospeed(&options))
    }

    /// Reads what the driver wrote, waiting up to `timeout`. Empty on timeout or when the driver
    /// has not opened its end.
    public func read(timeout: Nanoseconds) -> [UInt8] {
        guard master >= 0 else { return [] }
        var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(timeout / 1_000_000)) == 1, pfd.revents & Int16(POLLIN) != 0 else {
            // POLLHUP while no slave is open: wait out the timeout rather than spin.
            if pfd.revents & Int16(POLLHUP) != 0 {
                var pause = timespec(tv_sec: 0, tv_nsec: Int(min(timeout, .milliseconds(20))))
                nanosleep(&pause, nil)
            }
            return []
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
        return n > 0 ? Array(buffer.prefix(n)) : []
    }

    /// Writes toward the driver; bytes are lost (as on a wire) when nobody has the slave open.
    public func write(_ bytes: [UInt8]) {
        guard master >= 0, !bytes.isEmpty else { return }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(master, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 { offset += n; continue }
            if errno == EAGAIN {
                var pfd = pollfd(fd: master, events: Int16(POLLOUT), revents: 0)
                if poll(&pfd, 1, 200) <= 0 { return }
                continue
            }
            return
        }
    }

    static func baud(_ speed: speed_t) -> Int? {
        switch Int32(speed) {
        case B9600: 9600
        case B19200: 19200
        case B38400: 38400
        case B57600: 57600
        case B115200: 115_200
        case B230400: 230_400
        case B460800: 460_800
        case B921600: 921_600
        default: nil
        }
    }
}

public enum SimulatorError: Error, Sendable, CustomStringConvertible {
    case system(String, Int32)
    public var description: String {
        switch self {
        case .system(let what, let code): "\(what): \(String(cString: strerror(code)))"
        }
    }
}
