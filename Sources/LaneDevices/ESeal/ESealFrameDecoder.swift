import LaneCore
/// Cuts e-seal frames out of a byte stream. On a bad CRC or an impossible length it drops one
/// byte and hunts for the next `AA 55`.
public struct ESealFrameDecoder: Sendable {
    public private(set) var counters = DecodeCounters()
    private var buffer = ReceiveBuffer()

    public init() {}

    public var pendingBytes: Int { buffer.count }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        counters.overflowBytes &+= UInt64(buffer.append(bytes))
    }

    public mutating func abandonPartialFrame() {
        guard !buffer.isEmpty else { return }
        if buffer[0] == 0xAA { counters.truncated &+= 1 } else { counters.garbageBytes &+= UInt64(buffer.count) }
        buffer.removeAll()
    }

    public mutating func next() -> ESealFrame? {
        while true {
            guard let start = buffer.firstIndex(of: 0xAA) else {
                counters.garbageBytes &+= UInt64(buffer.count)
                buffer.removeAll()
                return nil
            }
            if start > 0 {
                counters.garbageBytes &+= UInt64(start)
                buffer.consume(start)
            }
            guard buffer.count >= 3 else { return nil }
            guard buffer[1] == 0x55 else {
                counters.garbageBytes &+= 1
                buffer.consume(1)
                continue
            }
            let length = Int(buffer[2])
            guard length >= 1, length <= ESealFrame.maxLength else {
                counters.oversized &+= 1
                buffer.consume(1)
                continue
            }
            let total = 3 + length + 2
            guard buffer.count >= total else { return nil }
            let crc = CRC16.ccittFalse(buffer.slice(2, length + 1))
            guard UInt16(buffer[3 + length]) << 8 | UInt16(buffer[4 + length]) == crc else {
                counters.crcErrors &+= 1
                buffer.consume(1)
                continue
            }
            let frame = ESealFrame(type: buffer[3], payload: Array(buffer.slice(4, length - 1)))
            buffer.consume(total)
            counters.frames &+= 1
            return frame
        }
    }
}
