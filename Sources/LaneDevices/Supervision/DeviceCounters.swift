import LaneCore
import Synchronization

/// Per-device counters, written by the device's thread and read by anyone (metrics, monitor).
public final class DeviceCounters: Sendable {
    public let bytesIn = Atomic<UInt64>(0)
    public let frames = Atomic<UInt64>(0)
    public let detections = Atomic<UInt64>(0)
    /// Bytes skipped while hunting for a frame start.
    public let garbageBytes = Atomic<UInt64>(0)
    public let crcErrors = Atomic<UInt64>(0)
    public let oversizedFrames = Atomic<UInt64>(0)
    public let truncatedFrames = Atomic<UInt64>(0)
    /// Frames that framed correctly but whose content could not be decoded.
    public let badRecords = Atomic<UInt64>(0)
    /// Device-reported errors (status words, receiver error messages).
    public let deviceErrors = Atomic<UInt64>(0)
    public let sessions = Atomic<UInt64>(0)
    // Detections dropped for a full ring are the ring's own count (`SPSCRing.totalDrops`).

    public init() {}

    /// Adds what a frame decoder discarded since the last call (`last` keeps the previous totals).
    func absorb(_ now: DecodeCounters, since last: inout DecodeCounters) {
        add(garbageBytes, now.garbageBytes &- last.garbageBytes)
        add(crcErrors, now.crcErrors &- last.crcErrors)
        add(oversizedFrames, now.oversized &- last.oversized)
        add(truncatedFrames, now.truncated &- last.truncated)
        add(garbageBytes, now.overflowBytes &- last.overflowBytes)
        add(frames, now.frames &- last.frames)
        last = now
    }

    private func add(_ counter: borrowing Atomic<UInt64>, _ amount: UInt64) {
        if amount > 0 { counter.add(amount, ordering: .relaxed) }
    }

    public struct Snapshot: Sendable, Hashable {
        public var bytesIn, frames, detections, garbageBytes, crcErrors, oversizedFrames, truncatedFrames,
                   badRecords, deviceErrors, sessions: UInt64
    }

    public var snapshot: Snapshot {
        Snapshot(bytesIn: bytesIn.load(ordering: .relaxed), frames: frames.load(ordering: .relaxed),
                 detections: detections.load(ordering: .relaxed), garbageBytes: garbageBytes.load(ordering: .relaxed),
                 crcErrors: crcErrors.load(ordering: .relaxed), oversizedFrames: oversizedFrames.load(ordering: .relaxed),
                 truncatedFrames: truncatedFrames.load(ordering: .relaxed), badRecords: badRecords.load(ordering: .relaxed),
                 deviceErrors: deviceErrors.load(ordering: .relaxed), sessions: sessions.load(ordering: .relaxed))
    }
}
