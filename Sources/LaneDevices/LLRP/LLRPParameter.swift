import LaneCore
/// A parameter inside an LLRP message body: TLV (type ≥ 128, with a length) or TV (type < 128,
/// fixed size by type).
public struct LLRPParameter: Sendable, Hashable {
    public var type: UInt16
    /// The value bytes, header excluded.
    public var value: ArraySlice<UInt8>
}

public enum LLRPParameterType {
    // TV
    public static let antennaID: UInt16 = 1
    public static let firstSeenUTC: UInt16 = 2
    public static let firstSeenUptime: UInt16 = 3
    public static let lastSeenUTC: UInt16 = 4
    public static let lastSeenUptime: UInt16 = 5
    public static let peakRSSI: UInt16 = 6
    public static let channelIndex: UInt16 = 7
    public static let tagSeenCount: UInt16 = 8
    public static let roSpecID: UInt16 = 9
    public static let epc96: UInt16 = 13
    // TLV
    public static let utcTimestamp: UInt16 = 128
    public static let generalDeviceCapabilities: UInt16 = 137
    public static let roSpec: UInt16 = 177
    public static let roBoundarySpec: UInt16 = 178
    public static let roSpecStartTrigger: UInt16 = 179
    public static let roSpecStopTrigger: UInt16 = 182
    public static let aiSpec: UInt16 = 183
    public static let aiSpecStopTrigger: UInt16 = 184
    public static let inventoryParameterSpec: UInt16 = 186
    public static let keepaliveSpec: UInt16 = 220
    public static let roReportSpec: UInt16 = 237
    public static let tagReportContentSelector: UInt16 = 238
    public static let tagReportData: UInt16 = 240
    public static let epcData: UInt16 = 241
    public static let readerEventNotificationData: UInt16 = 246
    public static let connectionAttemptEvent: UInt16 = 256
    public static let connectionCloseEvent: UInt16 = 257
    public static let llrpStatus: UInt16 = 287

    /// Value sizes of the TV parameters LLRP 1.0.1 defines (types 1…20).
    static func tvSize(_ type: UInt8) -> Int? {
        switch type {
        case 1, 7, 8, 10, 11, 12, 14, 15, 17, 19, 20: 2
        case 2, 3, 4, 5: 8
        case 6: 1
        case 9, 16, 18: 4
        case 13: 12
        default: nil
        }
    }
}

/// Walks the parameters of a message body or of a TLV parameter's value.
public struct LLRPParameterIterator: Sendable {
    private let bytes: ArraySlice<UInt8>
    private var offset: Int

    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.offset = bytes.startIndex
    }

    public mutating func next() throws(LLRPDecodeError) -> LLRPParameter? {
        guard offset < bytes.endIndex else { return nil }
        let first = bytes[offset]
        if first & 0x80 != 0 {
            let type = first & 0x7F
            guard let size = LLRPParameterType.tvSize(type) else { throw .unknownTVParameter(type) }
            guard bytes.endIndex - offset >= 1 + size else { throw .truncatedParameter(type: UInt16(type)) }
            defer { offset += 1 + size }
            return LLRPParameter(type: UInt16(type), value: bytes[(offset + 1)..<(offset + 1 + size)])
        }
        guard bytes.endIndex - offset >= 4 else { throw .truncatedParameter(type: 0) }
        let type = (UInt16(first) << 8 | UInt16(bytes[offset + 1])) & 0x3FF
        let length = Int(UInt16(bytes[offset + 2]) << 8 | UInt16(bytes[offset + 3]))
        guard length >= 4 else { throw .badParameterLength(type: type, length: length) }
        guard bytes.endIndex - offset >= length else { throw .truncatedParameter(type: type) }
        defer { offset += length }
        return LLRPParameter(type: type, value: bytes[(offset + 4)..<(offset + length)])
    }
}

extension LLRPParameter {
    /// The value as an unsigned big-endian integer (for TV values and fixed TLV fields).
    func unsigned(at offset: Int = 0, size: Int) throws(LLRPDecodeError) -> UInt64 {
        let start = value.startIndex + offset
        guard offset >= 0, value.endIndex - start >= size else { throw .truncatedParameter(type: type) }
        return value[start..<(start + size)].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Parameters nested after `offset` bytes of fixed fields.
    func children(after offset: Int = 0) -> LLRPParameterIterator {
        LLRPParameterIterator(value[min(value.endIndex, value.startIndex + offset)...])
    }
}

/// Building TLV parameters.
func tlv(_ type: UInt16, _ fields: [UInt8], _ children: [[UInt8]] = []) -> [UInt8] {
    let value = fields + children.flatMap { $0 }
    return bigEndianBytes(type & 0x3FF) + bigEndianBytes(UInt16(4 + value.count)) + value
}
