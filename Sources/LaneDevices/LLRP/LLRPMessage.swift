import LaneCore
/// One LLRP message: a 10-byte header (3-bit version, 10-bit type, u32 length including the
/// header, u32 id) and a body of parameters. All integers big-endian. This client sends
/// version 1 (LLRP 1.0.1), which LLRP 1.1 readers also speak, and reads versions 1 and 2
/// (1.1): the messages it uses are the same in both.
public struct LLRPMessage: Sendable, Hashable {
    public static let headerLength = 10
    /// Larger messages are refused: a report this big means a broken or hostile peer.
    public static let maxLength = 4 * 1024 * 1024

    public var type: UInt16
    public var id: UInt32
    public var body: [UInt8]

    public init(type: UInt16, id: UInt32, body: [UInt8] = []) {
        self.type = type
        self.id = id
        self.body = body
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.headerLength + body.count)
        out += bigEndianBytes(UInt16(1) << 10 | (type & 0x3FF))
        out += bigEndianBytes(UInt32(Self.headerLength + body.count))
        out += bigEndianBytes(id)
        out += body
        return out
    }
}

public enum LLRPMessageType {
    public static let getReaderCapabilities: UInt16 = 1
    public static let setReaderConfig: UInt16 = 3
    public static let closeConnectionResponse: UInt16 = 4
    public static let getReaderCapabilitiesResponse: UInt16 = 11
    public static let setReaderConfigResponse: UInt16 = 13
    public static let closeConnection: UInt16 = 14
    public static let addROSpec: UInt16 = 20
    public static let deleteROSpec: UInt16 = 21
    public static let startROSpec: UInt16 = 22
    public static let stopROSpec: UInt16 = 23
    public static let enableROSpec: UInt16 = 24
    public static let addROSpecResponse: UInt16 = 30
    public static let deleteROSpecResponse: UInt16 = 31
    public static let startROSpecResponse: UInt16 = 32
    public static let stopROSpecResponse: UInt16 = 33
    public static let enableROSpecResponse: UInt16 = 34
    public static let roAccessReport: UInt16 = 61
    public static let keepalive: UInt16 = 62
    public static let readerEventNotification: UInt16 = 63
    public static let enableEventsAndReports: UInt16 = 64
    public static let keepaliveAck: UInt16 = 72
    public static let errorMessage: UInt16 = 100

    /// The response type a request expects, where it has one.
    public static func response(to request: UInt16) -> UInt16? {
        switch request {
        case getReaderCapabilities: getReaderCapabilitiesResponse
        case setReaderConfig: setReaderConfigResponse
        case closeConnection: closeConnectionResponse
        case addROSpec, deleteROSpec, startROSpec, stopROSpec, enableROSpec: request + 10
        default: nil
        }
    }
}

public enum LLRPDecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    case unsupportedVersion(UInt8)
    case badMessageLength(Int)
    case truncatedParameter(type: UInt16)
    case badParameterLength(type: UInt16, length: Int)
    /// A TV parameter whose size this client does not know: the enclosing parameter is unreadable.
    case unknownTVParameter(UInt8)
    case missingField(String)

    public var description: String {
        switch self {
        case .unsupportedVersion(let v): "LLRP version \(v) (1 and 2 are spoken)"
        case .badMessageLength(let n): "message length \(n) outside 10…\(LLRPMessage.maxLength)"
        case .truncatedParameter(let t): "parameter \(t) runs past its container"
        case .badParameterLength(let t, let n): "parameter \(t) with length \(n)"
        case .unknownTVParameter(let t): "unknown TV parameter \(t)"
        case .missingField(let f): "missing \(f)"
        }
    }
}

/// Cuts LLRP messages out of a TCP byte stream. LLRP has no resynchronisation: a bad header
/// means the stream is lost, and the caller drops the connection.
public struct LLRPMessageDecoder: Sendable {
    private var buffer = ReceiveBuffer(limit: LLRPMessage.maxLength + 65536)
    public private(set) var messages: UInt64 = 0

    public init() {}

    public var pendingBytes: Int { buffer.count }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        buffer.append(bytes)
    }

    public mutating func next() throws(LLRPDecodeError) -> LLRPMessage? {
        guard buffer.count >= LLRPMessage.headerLength else { return nil }
        let word = UInt16(buffer[0]) << 8 | UInt16(buffer[1])
        let version = UInt8((word >> 10) & 0x7)
        guard version == 1 || version == 2 else { throw .unsupportedVersion(version) }
        let length = Int(buffer.slice(2, 4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard length >= LLRPMessage.headerLength, length <= LLRPMessage.maxLength else { throw .badMessageLength(length) }
        guard buffer.count >= length else { return nil }
        let id = buffer.slice(6, 4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let message = LLRPMessage(type: word & 0x3FF, id: id, body: Array(buffer.slice(10, length - 10)))
        buffer.consume(length)
        messages &+= 1
        return message
    }
}
