/// Which configured device a detection came from: an index into the gateway's device list.
public struct DeviceIndex: Hashable, Sendable, BitwiseCopyable, Comparable {
    public var rawValue: UInt16
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public static func < (a: DeviceIndex, b: DeviceIndex) -> Bool { a.rawValue < b.rawValue }
}

/// One raw detection, stamped where it was born. This is the element every device ring carries:
/// a plain value of at most 64 bytes, so a push is a copy and nothing more.
public struct Detection: Sendable, BitwiseCopyable {
    /// `CLOCK_MONOTONIC` at read completion, the kernel's edge time for GPIO, or the reader's own
    /// timestamp mapped onto the local monotonic clock.
    public var time: MonotonicInstant
    public var payload: Payload
    public var device: DeviceIndex

    @inlinable
    public init(time: MonotonicInstant, device: DeviceIndex, payload: Payload) {
        self.time = time
        self.device = device
        self.payload = payload
    }

    public enum Payload: Sendable, BitwiseCopyable {
        case tag(TagRead)
        case seal(SealReport)
        case loop(LoopEdge)
    }
}

/// A UHF RFID reader saw a tag.
public struct TagRead: Sendable, BitwiseCopyable {
    public var tag: TagID
    /// The reader's antenna port.
    public var antenna: UInt8
    /// dBm.
    public var rssi: Int8
    /// The reader's own timestamp in microseconds on the reader's clock, kept for audit; the
    /// detection's `time` is already mapped to the local clock. `Int64.min` when the reader gave none.
    @usableFromInline var rawReaderMicros: Int64

    @inlinable
    public init(tag: TagID, antenna: UInt8, rssi: Int8, readerMicros: Int64? = nil) {
        self.tag = tag
        self.antenna = antenna
        self.rssi = rssi
        self.rawReaderMicros = readerMicros ?? .min
    }

    public var readerMicros: Int64? { rawReaderMicros == .min ? nil : rawReaderMicros }
}

/// An e-seal receiver heard a seal's report.
public struct SealReport: Sendable, BitwiseCopyable, Hashable {
    public var seal: SealID
    public var status: SealStatus
    /// The seal's own count of seal/open/tamper events.
    public var eventCount: UInt16
    /// UTC seconds of the seal's last event, by the seal's clock (±5 s a day).
    public var eventTime: UInt32
    public var rssi: Int8
    public var antenna: UInt8

    @inlinable
    public init(seal: SealID, status: SealStatus, eventCount: UInt16, eventTime: UInt32, rssi: Int8, antenna: UInt8) {
        self.seal = seal
        self.status = status
        self.eventCount = eventCount
        self.eventTime = eventTime
        self.rssi = rssi
        self.antenna = antenna
    }
}

/// A loop detector input changed level. `true` = the card calls (a vehicle is over the loop),
/// after any active-low inversion.
public struct LoopEdge: Sendable, BitwiseCopyable {
    /// The input line on the device (GPIO line offset, or card channel).
    public var line: UInt16
    public var occupied: Bool

    @inlinable
    public init(line: UInt16, occupied: Bool) {
        self.line = line
        self.occupied = occupied
    }
}
