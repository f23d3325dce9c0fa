import LaneCore
/// Bytes received from a device and not yet decoded. Decoders look at the front, consume what
/// they understood, and the buffer compacts itself now and then, so a long session reuses one
/// allocation.
public struct ReceiveBuffer: Sendable {
    @usableFromInline var storage: [UInt8] = []
    @usableFromInline var start = 0
    /// Past this many unread bytes the oldest are discarded: a babbling device cannot grow memory.
    public let limit: Int

    public init(limit: Int = 64 * 1024) {
        self.limit = limit
        storage.reserveCapacity(4096)
    }

    public var count: Int { storage.count - start }
    public var isEmpty: Bool { count == 0 }

    /// Appends received bytes; returns how many old bytes were discarded to stay under `limit`.
    @discardableResult
    public mutating func append(_ bytes: some Collection<UInt8>) -> Int {
        if start > 0 && start >= storage.count / 2 {
            storage.removeSubrange(0..<start)
            start = 0
        }
        storage.append(contentsOf: bytes)
        let excess = count - limit
        guard excess > 0 else { return 0 }
        start += excess
        return excess
    }

    @inlinable
    public subscript(offset: Int) -> UInt8 { storage[start + offset] }

    /// Bytes `offset ..< offset + length` of the unread part.
    public func slice(_ offset: Int, _ length: Int) -> ArraySlice<UInt8> {
        storage[(start + offset)..<(start + offset + length)]
    }

    /// Offset of the first `byte` at or after `from`, if any.
    public func firstIndex(of byte: UInt8, from: Int = 0) -> Int? {
        var i = start + from
        while i < storage.count {
            if storage[i] == byte { return i - start }
            i += 1
        }
        return nil
    }

    public mutating func consume(_ n: Int) {
        precondition(n <= count, "consuming more than is buffered")
        start += n
        if start == storage.count {
            storage.removeAll(keepingCapacity: true)
            start = 0
        }
    }

    public mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        start = 0
    }
}

/// What every frame decoder keeps: the bytes not decoded yet, what was thrown away, and the
/// hunt for the next frame start.
struct FrameHunt: Sendable {
    let startByte: UInt8
    var buffer = ReceiveBuffer()
    var counters = DecodeCounters()

    init(startByte: UInt8) { self.startByte = startByte }

    mutating func append(_ bytes: some Collection<UInt8>) {
        counters.overflowBytes &+= UInt64(buffer.append(bytes))
    }

    /// The device went quiet in the middle of a frame: what is held goes, counted as a
    /// truncated frame when it began like one, as garbage otherwise.
    mutating func abandonPartialFrame() {
        guard !buffer.isEmpty else { return }
        if buffer[0] == startByte { counters.truncated &+= 1 } else { counters.garbageBytes &+= UInt64(buffer.count) }
        buffer.removeAll()
    }

    /// Drops, and counts, everything before the next start byte; false when none is buffered.
    mutating func seekStart() -> Bool {
        guard let start = buffer.firstIndex(of: startByte) else {
            counters.garbageBytes &+= UInt64(buffer.count)
            buffer.removeAll()
            return false
        }
        if start > 0 {
            counters.garbageBytes &+= UInt64(start)
            buffer.consume(start)
        }
        return true
    }
}

/// What a frame decoder threw away, and why. Every discarded byte is counted somewhere.
public struct DecodeCounters: Sendable, Hashable {
    /// Bytes skipped while hunting for a frame start.
    public var garbageBytes: UInt64 = 0
    public var crcErrors: UInt64 = 0
    /// Headers announcing an impossible length.
    public var oversized: UInt64 = 0
    /// Partial frames abandoned because the device went quiet mid-frame.
    public var truncated: UInt64 = 0
    /// Bytes dropped because the device sent faster than it was decoded.
    public var overflowBytes: UInt64 = 0
    public var frames: UInt64 = 0

    public init() {}

    /// Anything wrong at all.
    public var errors: UInt64 { crcErrors &+ oversized &+ truncated &+ (garbageBytes > 0 ? 1 : 0) }
}
