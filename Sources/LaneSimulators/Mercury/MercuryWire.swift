import LaneCore

/// The reader's side of Mercury framing, kept apart from the driver's codec on purpose.
public enum MercuryWire {
    /// Bit by bit, shifting message bits into the register (the protocol's non-augmented CRC).
    public static func crc(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            for bit in (0..<8).reversed() {
                let carry = crc & 0x8000 != 0
                crc = crc << 1 | UInt16((byte >> UInt8(bit)) & 1)
                if carry { crc ^= 0x1021 }
            }
        }
        return crc
    }

    public static func response(opcode: UInt8, status: UInt16, data: [UInt8], crc withCRC: Bool = true) -> [UInt8] {
        var frame: [UInt8] = [0xFF, UInt8(data.count), opcode, UInt8(status >> 8), UInt8(status & 0xFF)] + data
        if withCRC {
            let value = crc(frame.dropFirst())
            frame += [UInt8(value >> 8), UInt8(value & 0xFF)]
        }
        return frame
    }

    /// One streamed tag record with the metadata `metadata` asks for.
    public static func tagRecord(_ tag: TagID, antenna: UInt8, rssi: Int8, timestamp: UInt32,
                                 metadata: UInt16, searchFlags: UInt16 = 0x0008) -> [UInt8] {
        var data: [UInt8] = [0x10, UInt8(searchFlags >> 8), UInt8(searchFlags & 0xFF),
                             UInt8(metadata >> 8), UInt8(metadata & 0xFF), 0x01]
        if metadata & 0x0001 != 0 { data.append(1) }
        if metadata & 0x0002 != 0 { data.append(UInt8(bitPattern: rssi)) }
        if metadata & 0x0004 != 0 { data.append(antenna << 4 | antenna) }
        if metadata & 0x0008 != 0 { data += [0x0D, 0xF7, 0x32] }  // 915.25 MHz
        if metadata & 0x0010 != 0 { data += (0..<4).reversed().map { UInt8(truncatingIfNeeded: timestamp >> ($0 * 8)) } }
        if metadata & 0x0020 != 0 { data += [0x00, 0x5A] }
        if metadata & 0x0040 != 0 { data.append(0x05) }
        let epc = tag.bytes
        let bits = UInt16((epc.count + 4) * 8)
        let pc = UInt16(epc.count / 2) << 11
        data += [UInt8(bits >> 8), UInt8(bits & 0xFF), UInt8(pc >> 8), UInt8(pc & 0xFF)] + epc + [0x5C, 0x3A]
        return data
    }
}
