import LaneCore
/// One streamed tag record (an opcode 0x22 response with metadata), decoded.
public struct MercuryTagRecord: Sendable, Hashable {
    public var epc: TagID
    public var pc: UInt16
    public var readCount: UInt8
    /// dBm.
    public var rssi: Int8
    /// The antenna port that read it (monostatic: transmit and receive port agree).
    public var antenna: UInt8
    /// kHz, when asked for.
    public var frequency: UInt32?
    /// Milliseconds since the search started, by the reader's clock.
    public var timestampMilliseconds: UInt32?
    public var phase: UInt16?
    public var protocolCode: UInt8?
}

/// What a 0x22 frame carries during continuous reading.
public enum MercuryStreamMessage: Sendable, Hashable {
    case tag(MercuryTagRecord)
    /// The end of a search cycle with nothing more to report.
    case endOfCycle
    /// A statistics frame: not used by the gateway.
    case statistics
}

public enum MercuryRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The frame ends before the field named.
    case truncated(field: String)
    /// The option byte lacks the metadata flag, so the layout is unknown.
    case noMetadata
    case unknownResponseType(UInt8)
    /// Metadata flags whose fields this driver cannot size, so the EPC cannot be found.
    case unknownMetadata(UInt16)
    /// An EPC longer than the gateway's tag ids (32 bytes), or a bit count that cannot hold PC and CRC.
    case badEPCLength(bits: Int)

    public var description: String {
        switch self {
        case .truncated(let field): "tag record truncated at \(field)"
        case .noMetadata: "tag record without metadata"
        case .unknownResponseType(let t): "unknown response type 0x\(String(t, radix: 16))"
        case .unknownMetadata(let flags): "tag record with unknown metadata 0x\(String(flags, radix: 16))"
        case .badEPCLength(let bits): "impossible EPC length \(bits) bits"
        }
    }
}

extension MercuryStreamMessage {
    /// Decodes the data of a successful 0x22 frame.
    public static func parse(_ data: [UInt8]) throws(MercuryRecordError) -> MercuryStreamMessage {
        try parse(data[...])
    }

    public static func parse(_ data: ArraySlice<UInt8>) throws(MercuryRecordError) -> MercuryStreamMessage {
        var reader = FieldReader(data)
        let option = try reader.u8("option")
        guard option & 0x10 != 0 else { throw .noMetadata }
        _ = try reader.u16("search flags")
        let flags = try reader.u16("metadata flags")
        let responseType = try reader.u8("response type")
        switch responseType {
        case 0x02: return .statistics
        case 0x00 where reader.remaining == 0: return .endOfCycle
        case 0x00, 0x01: break
        default: throw .unknownResponseType(responseType)
        }
        let metadata = MercuryMetadata(rawValue: flags)
        guard metadata.isSubset(of: .understood) else { throw .unknownMetadata(flags) }
        var record = MercuryTagRecord(epc: TagID(bytes: [])!, pc: 0, readCount: 1, rssi: 0, antenna: 0)
        if metadata.contains(.readCount) { record.readCount = try reader.u8("read count") }
        if metadata.contains(.rssi) { record.rssi = Int8(bitPattern: try reader.u8("rssi")) }
        if metadata.contains(.antenna) {
            record.antenna = try reader.u8("antenna") >> 4
        }
        if metadata.contains(.frequency) { record.frequency = try reader.u24("frequency") }
        if metadata.contains(.timestamp) { record.timestampMilliseconds = try reader.u32("timestamp") }
        if metadata.contains(.phase) { record.phase = try reader.u16("phase") }
        if metadata.contains(.tagProtocol) { record.protocolCode = try reader.u8("protocol") }
        if metadata.contains(.embeddedData) {
            let bits = Int(try reader.u16("embedded data length"))
            try reader.skip((bits + 7) / 8, "embedded data")
        }
        // One byte each, in this order, as the vendor's host library reads them.
        for (field, name) in [(MercuryMetadata.gpioStatus, "GPIO status"), (.gen2Q, "Gen2 Q"),
                              (.gen2LinkFrequency, "Gen2 link frequency"), (.gen2Target, "Gen2 target")]
            where metadata.contains(field) {
            try reader.skip(1, name)
        }
        let bits = Int(try reader.u16("EPC length"))
        guard bits % 8 == 0, bits >= 32 else { throw .badEPCLength(bits: bits) }
        record.pc = try reader.u16("PC")
        var epcBytes = bits / 8 - 4
        if record.pc & 0x0200 != 0 {  // XPC word follows
            _ = try reader.u16("XPC")
            epcBytes -= 2
        }
        guard epcBytes >= 0, epcBytes <= TagID.capacity else { throw .badEPCLength(bits: bits) }
        guard let epc = TagID(bytes: try reader.bytes(epcBytes, "EPC")) else { throw .badEPCLength(bits: bits) }
        record.epc = epc
        _ = try reader.u16("tag CRC")
        return .tag(record)
    }
}

/// Big-endian fields read off the front of a frame's data; running short names the field.
struct FieldReader {
    let data: ArraySlice<UInt8>
    var offset: Int
    init(_ data: ArraySlice<UInt8>) {
        self.data = data
        offset = data.startIndex
    }

    var remaining: Int { data.endIndex - offset }

    mutating func bytes(_ n: Int, _ field: String) throws(MercuryRecordError) -> ArraySlice<UInt8> {
        guard n >= 0, remaining >= n else { throw .truncated(field: field) }
        defer { offset += n }
        return data[offset..<(offset + n)]
    }
    mutating func skip(_ n: Int, _ field: String) throws(MercuryRecordError) { _ = try bytes(n, field) }
    mutating func u8(_ field: String) throws(MercuryRecordError) -> UInt8 { try bytes(1, field).first! }
    mutating func u16(_ field: String) throws(MercuryRecordError) -> UInt16 { UInt16(try unsigned(2, field)) }
    mutating func u24(_ field: String) throws(MercuryRecordError) -> UInt32 { UInt32(try unsigned(3, field)) }
    mutating func u32(_ field: String) throws(MercuryRecordError) -> UInt32 { UInt32(try unsigned(4, field)) }
    private mutating func unsigned(_ n: Int, _ field: String) throws(MercuryRecordError) -> UInt64 {
        try bytes(n, field).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
