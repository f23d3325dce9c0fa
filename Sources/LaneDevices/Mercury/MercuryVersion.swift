import LaneCore
/// The reply to `get version` (0x03): what module this is and what it runs.
public struct MercuryVersion: Sendable, Hashable {
    public var bootloader: [UInt8]
    public var hardware: [UInt8]
    public var firmwareDate: [UInt8]
    public var firmwareVersion: [UInt8]
    /// Bit `p - 1` set ⇒ tag protocol `p` is supported.
    public var protocols: UInt32

    public init?(_ data: [UInt8]) {
        guard data.count >= 20 else { return nil }
        bootloader = Array(data[0..<4])
        hardware = Array(data[4..<8])
        firmwareDate = Array(data[8..<12])
        firmwareVersion = Array(data[12..<16])
        protocols = data[16..<20].reduce(0) { $0 << 8 | UInt32($1) }
    }

    public var model: String {
        switch hardware[0] {
        case 0x18: "M6e"
        case 0x19: "M6e-I"
        case 0x20: hardware[3] == 0x03 ? "USB Pro" : "M6e Micro"
        case 0x30: "M6e Nano"
        case 0x38: "M7e Pico"
        default: "unknown module 0x" + String(hardware[0], radix: 16)
        }
    }

    /// `01.0B.01.02`, the way the vendor prints firmware versions.
    public var firmware: String {
        firmwareVersion.map { ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: true) }.joined(separator: ".")
    }

    public func supports(_ tagProtocol: MercuryTagProtocol) -> Bool {
        let bit = Int(tagProtocol.rawValue) - 1
        return bit >= 0 && bit < 32 && protocols & (1 << UInt32(bit)) != 0
    }
}
