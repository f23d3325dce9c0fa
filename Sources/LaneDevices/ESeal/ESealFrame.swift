import LaneCore
/// The e-seal receiver link: `AA 55 LEN TYPE PAYLOAD CRC_HI CRC_LO`, where `LEN` counts TYPE and
/// PAYLOAD (1…250) and the CRC (CCITT-FALSE) covers `LEN TYPE PAYLOAD`.
public struct ESealFrame: Sendable, Hashable {
    public static let maxLength = 250

    public var type: UInt8
    public var payload: [UInt8]

    public init(type: UInt8, payload: [UInt8] = []) {
        precondition(payload.count < ESealFrame.maxLength, "e-seal payload over 249 bytes")
        self.type = type
        self.payload = payload
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = [0xAA, 0x55, UInt8(payload.count + 1), type]
        out += payload
        let crc = CRC16.ccittFalse(out.dropFirst(2))
        out.append(UInt8(crc >> 8))
        out.append(UInt8(crc & 0xFF))
        return out
    }

    public static let getStatus = ESealFrame(type: ESealMessageType.getStatus)

    /// `SET_TIME`: the receiver's clock to UTC seconds.
    public static func setTime(utcSeconds: UInt32) -> ESealFrame {
        ESealFrame(type: ESealMessageType.setTime, payload: bigEndianBytes(utcSeconds))
    }
}

public enum ESealMessageType {
    public static let sealReport: UInt8 = 0x01
    public static let receiverStatus: UInt8 = 0x02
    public static let receiverError: UInt8 = 0x03
    public static let getStatus: UInt8 = 0x81
    public static let setTime: UInt8 = 0x82
}

/// A receiver → host message, decoded.
public enum ESealMessage: Sendable, Hashable {
    case seal(SealReport)
    /// The heartbeat, once a second.
    case status(firmware: UInt16, uptimeSeconds: UInt32, noiseFloor: Int8)
    case error(ESealReceiverError)
    /// A type this codec does not know: counted, not fatal.
    case unknown(type: UInt8)

    public enum DecodeError: Error, Sendable, Hashable, CustomStringConvertible {
        case badPayloadLength(type: UInt8, length: Int)
        public var description: String {
            switch self {
            case .badPayloadLength(let type, let length): "message type 0x\(String(type, radix: 16)) with \(length) payload bytes"
            }
        }
    }

    public init(_ frame: ESealFrame) throws(DecodeError) {
        let p = frame.payload
        func need(_ n: Int) throws(DecodeError) {
            guard p.count >= n else { throw .badPayloadLength(type: frame.type, length: p.count) }
        }
        func u16(_ at: Int) -> UInt16 { UInt16(p[at]) << 8 | UInt16(p[at + 1]) }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) << 16 | UInt32(u16(at + 2)) }
        switch frame.type {
        case ESealMessageType.sealReport:
            try need(15)
            self = .seal(SealReport(seal: SealID(manufacturer: u16(0), tag: u32(2)), status: SealStatus(rawValue: p[6]),
                                    eventCount: u16(7), eventTime: u32(9), rssi: Int8(bitPattern: p[13]), antenna: p[14]))
        case ESealMessageType.receiverStatus:
            try need(7)
            self = .status(firmware: u16(0), uptimeSeconds: u32(2), noiseFloor: Int8(bitPattern: p[6]))
        case ESealMessageType.receiverError:
            try need(1)
            self = .error(ESealReceiverError(code: p[0]))
        default:
            self = .unknown(type: frame.type)
        }
    }
}

public struct ESealReceiverError: Sendable, Hashable, CustomStringConvertible {
    public var code: UInt8
    public var description: String {
        switch code {
        case 1: "radio fault"
        case 2: "buffer overflow"
        case 3: "clock not set"
        default: "error code \(code)"
        }
    }
}
