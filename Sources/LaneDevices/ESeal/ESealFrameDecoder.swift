import LaneCore
/// Cuts e-seal frames out of a byte stream. On a bad CRC or an impossible length it drops one
/// byte and hunts for the next `AA 55`.
public struct ESealFrameDecoder: Sendable {
    private var hunt = FrameHunt(startByte: 0xAA)
    public var counters: DecodeCounters { hunt.counters }

    public init() {}

    public var pendingBytes: Int { hunt.buffer.count }

    public mutating func append(_ bytes: some Collection<UInt8>) { hunt.append(bytes) }

    public mutating func abandonPartialFrame() { hunt.abandonPartialFrame() }

    public mutating func next() -> ESealFrame? {
        while true {
            guard hunt.seekStart() else { return nil }
            guard hunt.buffer.count >= 3 else { return nil }
            guard hunt.buffer[1] == 0x55 else {
                hunt.counters.garbageBytes &+= 1
                hunt.buffer.consume(1)
                continue
            }
            let length = Int(hunt.buffer[2])
            guard length >= 1, length <= ESealFrame.maxLength else {
                hunt.counters.oversized &+= 1
                hunt.buffer.consume(1)
                continue
            }
            let total = 3 + length + 2
            guard hunt.buffer.count >= total else { return nil }
            let crc = CRC16.ccittFalse(hunt.buffer.slice(2, length + 1))
            guard UInt16(hunt.buffer[3 + length]) << 8 | UInt16(hunt.buffer[4 + length]) == crc else {
                hunt.counters.crcErrors &+= 1
                hunt.buffer.consume(1)
                continue
            }
            let frame = ESealFrame(type: hunt.buffer[3], payload: Array(hunt.buffer.slice(4, length - 1)))
            hunt.buffer.consume(total)
            hunt.counters.frames &+= 1
            return frame
        }
    }
}
