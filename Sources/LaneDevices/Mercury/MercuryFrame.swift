import LaneCore
/// A reader → host frame: `FF LEN OP ST_HI ST_LO DATA [CRC_HI CRC_LO]`.
public struct MercuryFrame: Sendable, Hashable {
    /// Largest `LEN` a reader sends (a 256-byte packet).
    public static let maxDataLength = 0xF8

    public var opcode: UInt8
    public var status: UInt16
    public var data: [UInt8]

    public init(opcode: UInt8, status: UInt16 = MercuryStatus.success, data: [UInt8] = []) {
        self.opcode = opcode
        self.status = status
        self.data = data
    }
}

/// Status words a reader answers with.
public enum MercuryStatus {
    public static let success: UInt16 = 0x0000
    public static let wrongDataLength: UInt16 = 0x0100
    public static let invalidOpcode: UInt16 = 0x0101
    public static let invalidParameter: UInt16 = 0x0105
    public static let invalidBaud: UInt16 = 0x010A
    public static let invalidRegion: UInt16 = 0x010B
    /// Every empty search cycle: normal, not an error.
    public static let noTagsFound: UInt16 = 0x0400
    public static let overTemperature: UInt16 = 0x0504
    public static let tagBufferFull: UInt16 = 0x0601
    public static let firmwareAssert: UInt16 = 0x7F01

    public static func describe(_ status: UInt16) -> String {
        let name: String = switch status {
        case success: "success"
        case wrongDataLength: "wrong data length"
        case invalidOpcode: "invalid opcode"
        case invalidParameter: "invalid parameter"
        case invalidBaud: "invalid baud"
        case invalidRegion: "invalid region"
        case noTagsFound: "no tags found"
        case overTemperature: "over temperature"
        case tagBufferFull: "tag buffer full"
        case firmwareAssert: "firmware assert"
        default: "status"
        }
        return name + " (0x" + String(status, radix: 16, uppercase: true) + ")"
    }
}
