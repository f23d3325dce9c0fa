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
    private var hunt = FrameHunt(startByte: 0xFF)
    public var counters: DecodeCounters { hunt.counters }

    public init(crcMode: CRCMode = .present) {
        self.crcMode = crcMode
    }

    /// Bytes held for a frame that has not completed yet.
    public var pendingBytes: Int { hunt.buffer.count }

    public mutating func append(_ bytes: some Collection<UInt8>) { hunt.append(bytes) }

    /// The device went quiet in the middle of a frame: drop what is held.
    public mutating func abandonPartialFrame() { hunt.abandonPartialFrame() }

    /// The next complete frame, or nil until more bytes arrive.
    public mutating func next() -> MercuryFrame? {
        nextFrame { opcode, status, data in MercuryFrame(opcode: opcode, status: status, data: Array(data)) }
    }

    /// Hands the next complete frame to `body` without copying its data out of the receive
    /// buffer (the streaming path: no allocation per tag). Nil until more bytes arrive.
    public mutating func nextFrame<R>(_ handle: (_ opcode: UInt8, _ status: UInt16, _ data: ArraySlice<UInt8>) -> R) -> R? {
        while true {
            guard hunt.seekStart() else { return nil }
            guard hunt.buffer.count >= 2 else { return nil }
            let length = Int(hunt.buffer[1])
            guard length <= MercuryFrame.maxDataLength else {
                hunt.counters.oversized &+= 1
                hunt.buffer.consume(1)
                continue
            }
            let body = 5 + length
            let total = crcMode == .present ? body + 2 : body
            guard hunt.buffer.count >= total else { return nil }
            let crc = CRC16.mercury(hunt.buffer.slice(1, body - 1))
            if crcMode == .present {
                guard UInt16(hunt.buffer[body]) << 8 | UInt16(hunt.buffer[body + 1]) == crc else {
                    hunt.counters.crcErrors &+= 1
                    hunt.buffer.consume(1)
                    continue
                }
            }
            let result = handle(hunt.buffer[2], UInt16(hunt.buffer[3]) << 8 | UInt16(hunt.buffer[4]), hunt.buffer.slice(5, length))
            hunt.buffer.consume(total)
            // Without CRCs expected, a CRC that came anyway (the reply to the very command that
            // switched them off) is recognised and skipped rather than counted as garbage.
            if crcMode == .absent, hunt.buffer.count >= 2, hunt.buffer[0] != 0xFF,
               UInt16(hunt.buffer[0]) << 8 | UInt16(hunt.buffer[1]) == crc {
                hunt.buffer.consume(2)
            }
            hunt.counters.frames &+= 1
            return result
        }
    }
}
