import LaneCore

/// A byte pipe to one device: a serial port, a USB serial adapter, a TCP connection.
/// Transports are thin; protocol drivers own framing, and supervision owns reconnects.
/// One thread uses a link at a time.
public protocol ByteLink: AnyObject {
    /// Reads what is available into `buffer`, waiting at most `timeout`; 0 means nothing came.
    /// Throws ``LinkError/closed`` when the far end went away (unplugged, hung up).
    func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Nanoseconds) throws(LinkError) -> Int
    func write(_ bytes: [UInt8]) throws(LinkError)
    /// Serial links change their line speed; others ignore it.
    func setBaud(_ baud: Int) throws(LinkError)
    /// Drops bytes received and not yet read (after a baud change, before a probe).
    func discardInput()
    func close()
    /// Where this link goes, for logs and status events: `/dev/ttyUSB0`, `usb 0403:6001 A10K2B3`.
    var name: String { get }
}

extension ByteLink {
    /// Reads into the front of `array` (its whole capacity is the limit).
    public func read(into array: inout [UInt8], timeout: Nanoseconds) throws(LinkError) -> Int {
        var result: Result<Int, LinkError> = .success(0)
        array.withUnsafeMutableBytes { buffer in
            do throws(LinkError) { result = .success(try read(into: buffer, timeout: timeout)) } catch { result = .failure(error) }
        }
        return try result.get()
    }
}

public enum LinkError: Error, Sendable, Hashable, CustomStringConvertible {
    case notFound(String)
    /// Permission denied, with what usually fixes it.
    case permissionDenied(String)
    /// Another process holds the device.
    case busy(String)
    case closed(String)
    case unsupportedBaud(Int)
    case system(operation: String, errno: Int32)
    case usb(operation: String, code: Int32, text: String)
    case timedOut(String)

    public var description: String {
        switch self {
        case .notFound(let what): "\(what) not found"
        case .permissionDenied(let what): "\(what): permission denied"
        case .busy(let what): "\(what) is in use by another process"
        case .closed(let what): "\(what) closed (unplugged or hung up)"
        case .unsupportedBaud(let baud): "baud \(baud) is not supported"
        case .system(let op, let errno): "\(op): \(systemErrorText(errno))"
        case .usb(let op, _, let text): "\(op): \(text)"
        case .timedOut(let what): "\(what) timed out"
        }
    }

    /// Lost (come back by itself) rather than misconfigured.
    public var isLoss: Bool {
        switch self {
        case .closed, .notFound, .timedOut: true
        default: false
        }
    }
}
