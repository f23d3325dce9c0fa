#if canImport(Glibc)
import Glibc
#endif
import CLaneSystem
import LaneCore

/// A serial port (`/dev/ttyUSB*`, `/dev/ttyACM*`, a UART, a pty): raw mode, 8N1, no flow
/// control, opened exclusively so a second program cannot steal bytes from the driver.
public final class TTYLink: FileDescriptorLink {
    public init(path: String, baud: Int) throws(LinkError) {
        let fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT, ENODEV, ENXIO: throw .notFound(path)
            case EACCES, EPERM: throw .permissionDenied("\(path) (is the udev rule installed, and the user in group lanegate?)")
            case EBUSY: throw .busy(path)
            default: throw .system(operation: "open \(path)", errno: code)
            }
        }
        super.init(fd: fd, name: path)
        let exclusive = lanegate_tty_exclusive(fd)
        if exclusive < 0 && -exclusive != ENOTTY {
            throw .system(operation: "TIOCEXCL \(path)", errno: -exclusive)
        }
        var options = termios()
        guard tcgetattr(fd, &options) == 0 else { throw .system(operation: "tcgetattr \(path)", errno: errno) }
        cfmakeraw(&options)
        options.c_cflag |= tcflag_t(CLOCAL | CREAD)
        options.c_cflag &= ~(tcflag_t(CRTSCTS) | tcflag_t(CSTOPB) | tcflag_t(PARENB))
        guard tcsetattr(fd, TCSANOW, &options) == 0 else { throw .system(operation: "tcsetattr \(path)", errno: errno) }
        try setBaud(baud)
        // What arrived between open and raw mode went through the default line discipline
        // (canonical, CR→NL, echo) at whatever speed the port had: never a device's true bytes,
        // and counted as bad frames were it read. A device talking before the port was set up
        // (an e-seal receiver's heartbeat) left exactly that.
        tcflush(fd, TCIFLUSH)
    }

    public override func setBaud(_ baud: Int) throws(LinkError) {
        guard let speed = Self.speed(baud) else { throw .unsupportedBaud(baud) }
        var options = termios()
        guard tcgetattr(fd, &options) == 0 else { throw .system(operation: "tcgetattr \(name)", errno: errno) }
        cfsetispeed(&options, speed)
        cfsetospeed(&options, speed)
        guard tcsetattr(fd, TCSADRAIN, &options) == 0 else { throw .system(operation: "set baud \(name)", errno: errno) }
    }

    public override func discardInput() {
        tcflush(fd, TCIFLUSH)
        super.discardInput()
    }

    static func speed(_ baud: Int) -> speed_t? {
        switch baud {
        case 9600: speed_t(B9600)
        case 19200: speed_t(B19200)
        case 38400: speed_t(B38400)
        case 57600: speed_t(B57600)
        case 115200: speed_t(B115200)
        case 230400: speed_t(B230400)
        case 460800: speed_t(B460800)
        case 921600: speed_t(B921600)
        default: nil
        }
    }
}
