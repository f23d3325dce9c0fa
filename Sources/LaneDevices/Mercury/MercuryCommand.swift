import LaneCore
/// Host → reader frames of the Mercury serial protocol: `FF LEN OP DATA CRC_HI CRC_LO`, where
/// `LEN` counts the data bytes and the CRC covers `LEN OP DATA`.
public struct MercuryCommand: Sendable, Hashable {
    public var opcode: UInt8
    public var data: [UInt8]

    public init(opcode: UInt8, data: [UInt8] = []) {
        precondition(data.count <= MercuryFrame.maxDataLength, "Mercury command data over 248 bytes")
        self.opcode = opcode
        self.data = data
    }

    /// The whole frame, ready to write.
    public var frame: [UInt8] {
        var out: [UInt8] = [0xFF, UInt8(data.count), opcode]
        out += data
        let crc = CRC16.mercury(out.dropFirst())
        out.append(UInt8(crc >> 8))
        out.append(UInt8(crc & 0xFF))
        return out
    }
}

public enum MercuryOpcode {
    public static let bootFirmware: UInt8 = 0x04
    public static let setBaud: UInt8 = 0x06
    public static let version: UInt8 = 0x03
    public static let currentProgram: UInt8 = 0x0C
    public static let readTagMultiple: UInt8 = 0x22
    public static let multiProtocolSearch: UInt8 = 0x2F
    public static let setAntennas: UInt8 = 0x91
    public static let setReadPower: UInt8 = 0x92
    public static let setProtocol: UInt8 = 0x93
    public static let setRegion: UInt8 = 0x97
    public static let setReaderConfig: UInt8 = 0x9A
    /// Sent by a module that was left in auto-read mode at power-up.
    public static let autoReadNotice: UInt8 = 0x9D
}

/// The tag protocols a gateway asks for.
public enum MercuryTagProtocol: UInt16, Sendable, Hashable, CaseIterable {
    case gen2 = 0x0005
    case iso18000_6B = 0x0003
    /// The toll and rail tags many trucks carry.
    case ata = 0x001D

    public var name: String {
        switch self {
        case .gen2: "gen2"
        case .iso18000_6B: "iso18000-6b"
        case .ata: "ata"
        }
    }
}

public enum MercuryRegion: UInt8, Sendable, Hashable, CaseIterable {
    case na = 0x01, na2 = 0x0D, na3 = 0x0E, open = 0xFF

    public var name: String {
        switch self {
        case .na: "na"
        case .na2: "na2"
        case .na3: "na3"
        case .open: "open"
        }
    }
}

/// Metadata the reader attaches to each streamed tag record.
public struct MercuryMetadata: OptionSet, Sendable, Hashable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let readCount = MercuryMetadata(rawValue: 0x0001)
    public static let rssi = MercuryMetadata(rawValue: 0x0002)
    public static let antenna = MercuryMetadata(rawValue: 0x0004)
    public static let frequency = MercuryMetadata(rawValue: 0x0008)
    public static let timestamp = MercuryMetadata(rawValue: 0x0010)
    public static let phase = MercuryMetadata(rawValue: 0x0020)
    public static let tagProtocol = MercuryMetadata(rawValue: 0x0040)
    public static let embeddedData = MercuryMetadata(rawValue: 0x0080)
    public static let gpioStatus = MercuryMetadata(rawValue: 0x0100)
    public static let gen2Q = MercuryMetadata(rawValue: 0x0200)
    public static let gen2LinkFrequency = MercuryMetadata(rawValue: 0x0400)
    public static let gen2Target = MercuryMetadata(rawValue: 0x0800)
    /// Every field whose size this driver knows; a record with others cannot be laid out.
    public static let understood = MercuryMetadata(rawValue: 0x0FFF)
    /// What the gateway asks for: enough to dedup, place and time every read.
    public static let gateway: MercuryMetadata = [.readCount, .rssi, .antenna, .timestamp]
}

extension MercuryCommand {
    public static let getVersion = MercuryCommand(opcode: MercuryOpcode.version)
    public static let getCurrentProgram = MercuryCommand(opcode: MercuryOpcode.currentProgram)
    public static let bootApplication = MercuryCommand(opcode: MercuryOpcode.bootFirmware)
    public static let stopContinuousRead = MercuryCommand(opcode: MercuryOpcode.multiProtocolSearch, data: [0x00, 0x00, 0x02])

    public static func setBaud(_ baud: UInt32) -> MercuryCommand {
        MercuryCommand(opcode: MercuryOpcode.setBaud, data: bigEndianBytes(baud))
    }

    public static func setRegion(_ region: MercuryRegion) -> MercuryCommand {
        MercuryCommand(opcode: MercuryOpcode.setRegion, data: [region.rawValue])
    }

    public static func setProtocol(_ tagProtocol: MercuryTagProtocol) -> MercuryCommand {
        MercuryCommand(opcode: MercuryOpcode.setProtocol, data: bigEndianBytes(tagProtocol.rawValue))
    }

    /// Monostatic antenna ports to search, in order (option 2: a list of tx/rx pairs).
    public static func setAntennas(_ ports: [UInt8]) -> MercuryCommand {
        MercuryCommand(opcode: MercuryOpcode.setAntennas, data: [0x02] + ports.flatMap { [$0, $0] })
    }

    /// Read power in centi-dBm (3000 = 30 dBm).
    public static func setReadPower(centiDBm: UInt16) -> MercuryCommand {
        MercuryCommand(opcode: MercuryOpcode.setReadPower, data: bigEndianBytes(centiDBm))
    }

    /// Reader configuration key 0x1B: whether responses carry a CRC.
    public static func sendResponseCRC(_ on: Bool) -> MercuryCommand {
        MercuryCommand(opcode: MercuryOpcode.setReaderConfig, data: [0x01, 0x1B, on ? 0x01 : 0x00])
    }

    /// Continuous streaming with metadata, `onTime` ms per cycle. Search flags: 0x0003 walks the
    /// antenna search list `setAntennas` gave (0 would use the one configured port alone), 0x0008
    /// streams the tags, as the vendor's host library sets them.
    public static func startContinuousRead(onTimeMilliseconds: UInt16, metadata: MercuryMetadata = .gateway,
                                           largePopulation: Bool = false) -> MercuryCommand {
        let searchFlags: UInt16 = 0x0003 | 0x0008 | (largePopulation ? 0x0010 : 0)
        return MercuryCommand(opcode: MercuryOpcode.readTagMultiple,
                              data: [0x10] + bigEndianBytes(searchFlags) + bigEndianBytes(onTimeMilliseconds)
                                  + bigEndianBytes(metadata.rawValue))
    }
}

@inlinable
func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    (0..<T.bitWidth / 8).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
}
