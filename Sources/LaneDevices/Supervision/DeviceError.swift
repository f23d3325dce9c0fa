import LaneCore
/// Why a device session ended.
public enum DeviceError: Error, Sendable, Hashable, CustomStringConvertible {
    case link(LinkError)
    /// The device answered, but not in the protocol expected (wrong baud, wrong device, garbage).
    case noAnswer(String)
    /// The device refused a command: status codes, LLRP errors.
    case rejected(String)
    /// The device stopped talking while it should have been.
    case silent(String)
    /// The peer broke the protocol so the stream cannot be trusted (LLRP framing).
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .link(let e): e.description
        case .noAnswer(let s): "no answer: \(s)"
        case .rejected(let s): "rejected: \(s)"
        case .silent(let s): "silent: \(s)"
        case .protocolViolation(let s): "protocol violation: \(s)"
        }
    }

    /// Lost (unplugged, gone quiet) rather than failing: reported as `lost`, not `error`.
    public var isLoss: Bool {
        switch self {
        case .link(let e): e.isLoss
        case .silent: true
        default: false
        }
    }
}
