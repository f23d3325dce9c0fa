import LaneCore
/// Cuts reader → host frames out of a byte stream, with or without response CRCs, and
/// resynchronises on the next `FF` after anything that does not check out.
public struct MercuryFrameDecoder: Sendable {
    public enum CRCMode: Sendable, Hashable {
        /// Every response ends in a CRC (the default on serial links).
        case present
        /// Responses have no CRC (`9A 01 1B 00`, what the Mercury API sets over USB).
        case absent
    }

    public var crcMode: CRCMode
    public private(set) var counters = DecodeCounters()
    private var buffer = ReceiveBuffer()

    public init(crcMode: CRCMode = .present) {
        self.crcMode = crcMode
    }

    /// Bytes held for a frame that has not completed yet.
    public var pendingBytes: Int { buffer.count }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        counters.overflowBytes &+= UInt64(buffer.append(bytes))
    }

    /// The device went quiet in the middle of a frame: drop what is held.
    public mutating func abandonPartialFrame() {
        guard !buffer.isEmpty else { return }
        if buffer[0] == 0xFF { counters.truncated &+= 1 } else { counters.garbageBytes &+= UInt64(buffer.count) }
        buffer.removeAll()
    }

    /// The next complete frame, or nil until more bytes arrive.
    public mutating func next() -> MercuryFrame? {
        nextFrame { opcode, status, data in MercuryFrame(opcode: opcode, status: status, data: Array(data)) }
    }

    /// Hands the next complete frame to `body` without copying its data out of the receive
    /// buffer (the streaming path: no allocation per tag). Nil until more bytes arrive.
    public mutating func nextFrame<R>(_ handle: (_ opcode: UInt8, _ status: UInt16, _ data: ArraySlice<UInt8>) -> R) -> R? {
        while true {
            guard let start = buffer.firstIndex(of: 0xFF) else {
                counters.garbageBytes &+= UInt64(buffer.count)
                buffer.removeAll()
                return nil
            }
            if start > 0 {
                counters.garbageBytes &+= UInt64(start)
                buffer.consume(start)
            }
            guard buffer.count >= 2 else { return nil }
            let length = Int(buffer[1])
            guard length <= MercuryFrame.maxDataLength else {
                counters.oversized &+= 1
                buffer.consume(1)
                continue
            }
            let body = 5 + length
            let total = crcMode == .present ? body + 2 : body
            guard buffer.count >= total else { return nil }
            let crc = CRC16.mercury(buffer.slice(1, body - 1))
            if crcMode == .present {
                guard UInt16(buffer[body]) << 8 | UInt16(buffer[body + 1]) == crc else {
                    counters.crcErrors &+= 1
                    buffer.consume(1)
                    continue
                }
            }
            let result = handle(buffer[2], UInt16(buffer[3]) << 8 | UInt16(buffer[4]), buffer.slice(5, length))
            buffer.consume(total)
            // Without CRCs expected, a CRC that came anyway (the reply to the very command that
            // switched them off) is recognised and skipped rather than counted as garbage.
            if crcMode == .absent, buffer.count >= 2, buffer[0] != 0xFF,
               UInt16(buffer[0]) << 8 | UInt16(buffer[1]) == crc {
                buffer.consume(2)
            }
            counters.frames &+= 1
            return result
        }
    }
}
