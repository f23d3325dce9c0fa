import LaneCore
/// The two CRC-16 variants the lane devices use. Both use polynomial 0x1021 and start at 0xFFFF;
/// they differ in how message bits enter the register, which is easy to get wrong (see tests).
public enum CRC16 {
    /// The Mercury serial protocol's CRC: message bits are *shifted into* the register
    /// (non-augmented), a nibble at a time. Check value for "123456789": 0xA69D.
    @inlinable
    public static func mercury(_ bytes: some Sequence<UInt8>, initial: UInt16 = 0xFFFF) -> UInt16 {
        var crc = initial
        for byte in bytes {
            crc = ((crc << 4) | UInt16(byte >> 4)) ^ nibbleTable[Int(crc >> 12)]
            crc = ((crc << 4) | UInt16(byte & 0x0F)) ^ nibbleTable[Int(crc >> 12)]
        }
        return crc
    }

    /// CRC-16/CCITT-FALSE, the e-seal receiver link's CRC. Check value for "123456789": 0x29B1.
    @inlinable
    public static func ccittFalse(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            crc = (crc << 4) ^ nibbleTable[Int((crc >> 12) ^ UInt16(byte >> 4))]
            crc = (crc << 4) ^ nibbleTable[Int((crc >> 12) ^ UInt16(byte & 0x0F))]
        }
        return crc
    }

    /// `i × 0x1021` (carry-less) for every nibble `i`: no reduction is needed below 16.
    @usableFromInline
    static let nibbleTable: [UInt16] = (0..<16).map { i in
        var product: UInt16 = 0
        for bit in 0..<4 where i & (1 << bit) != 0 { product ^= 0x1021 << UInt16(bit) }
        return product
    }
}
