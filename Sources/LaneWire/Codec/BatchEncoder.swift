#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LaneCore
import SwiftProtobuf

/// Turns closed batches into wire bytes: protobuf (`lanegate.v1.Batch`), then zstd.
public struct BatchEncoder: Sendable {
    public var gatewayID: String
    public var layout: LaneLayout
    /// The unit of wire times; event times are floored to it. Milliseconds by default: speed and
    /// length are computed on the gateway from nanosecond edge times, so the collector loses
    /// nothing it uses, and every time field is two bytes shorter than in microseconds.
    public var timeUnitNanoseconds: Int64
    public var compressionLevel: Int32
    public var bootID: String

    public init(gatewayID: String, layout: LaneLayout, timeUnitNanoseconds: Int64 = 1_000_000,
                compressionLevel: Int32 = 9, bootID: String = "") {
        precondition(timeUnitNanoseconds > 0 && timeUnitNanoseconds <= 1_000_000_000, "time unit out of range")
        self.gatewayID = gatewayID
        self.layout = layout
        self.timeUnitNanoseconds = timeUnitNanoseconds
        self.compressionLevel = compressionLevel
        self.bootID = bootID
    }

    /// The compressed wire bytes of `batch`.
    public func encode(_ batch: EventBatch) -> [UInt8] {
        // Serializing a fully built message cannot fail: every field is set from valid values.
        let body: [UInt8] = try! message(for: batch).serializedBytes()
        return Zstd.compress(body, level: compressionLevel)
    }

    /// The protobuf message of `batch`, before serialization.
    public func message(for batch: EventBatch) -> Lanegate_V1_Batch {
        var tables = Tables()
        var out = Lanegate_V1_Batch()
        out.gatewayID = gatewayID
        out.sequence = batch.sequence
        out.priority = batch.priority
        out.bootID = bootID
        out.anchor = .init(batch.anchor)
        if let counters = batch.counters { out.counters = .init(counters) }
        out.timeUnitNs = UInt32(timeUnitNanoseconds)
        let base = batch.events.first.map { units($0.time) } ?? 0
        out.baseTime = base
        var previous = base
        out.events.reserveCapacity(batch.events.count)
        for event in batch.events {
            var wire = Lanegate_V1_Event()
            let t = units(event.time)
            wire.dt = t &- previous
            previous = t
            wire.kind = kind(of: event, tables: &tables)
            out.events.append(wire)
        }
        out.names = tables.names
        out.tags = tables.tags
        return out
    }

    private func units(_ instant: MonotonicInstant) -> Int64 {
        let n = instant.nanoseconds
        // Floor division, so negative instants round the same way as positive ones.
        return n >= 0 ? n / timeUnitNanoseconds : -((-n + timeUnitNanoseconds - 1) / timeUnitNanoseconds)
    }

    private func span(_ from: MonotonicInstant, _ to: MonotonicInstant) -> UInt64 {
        UInt64(clamping: units(to) &- units(from))
    }

    private func kind(of event: LaneEvent, tables: inout Tables) -> Lanegate_V1_Event.OneOf_Kind {
        switch event {
        case .tagArrived(let e):
            var m = Lanegate_V1_TagArrived()
            m.readPoint = tables.name(layout.readPointName(e.readPoint))
            m.tag = tables.tag(e.tag)
            m.peakRssi = Int32(e.peakRSSI)
            m.antennas = e.antennas
            return .tagArrived(m)
        case .tagDeparted(let e):
            var m = Lanegate_V1_TagDeparted()
            m.readPoint = tables.name(layout.readPointName(e.readPoint))
            m.tag = tables.tag(e.tag)
            m.dwell = span(e.firstSeen, e.lastSeen)
            m.readCount = e.readCount
            m.peakRssi = Int32(e.peakRSSI)
            m.antennas = e.antennas
            m.evicted = e.evicted
            return .tagDeparted(m)
        case .sealSeen(let e):
            var m = Lanegate_V1_SealSeen()
            m.readPoint = tables.name(layout.readPointName(e.readPoint))
            m.manufacturer = UInt32(e.seal.manufacturer)
            m.seal = e.seal.tag
            m.status = UInt32(e.status.rawValue)
            m.eventCount = UInt32(e.eventCount)
            m.eventTime = e.eventTime
            m.rssi = Int32(e.rssi)
            return .sealSeen(m)
        case .sealChanged(let e):
            var m = Lanegate_V1_SealChanged()
            m.readPoint = tables.name(layout.readPointName(e.readPoint))
            m.manufacturer = UInt32(e.seal.manufacturer)
            m.seal = e.seal.tag
            m.previousStatus = UInt32(e.previous.rawValue)
            m.status = UInt32(e.status.rawValue)
            m.eventCount = UInt32(e.eventCount)
            m.eventTime = e.eventTime
            return .sealChanged(m)
        case .sealDeparted(let e):
            var m = Lanegate_V1_SealDeparted()
            m.readPoint = tables.name(layout.readPointName(e.readPoint))
            m.manufacturer = UInt32(e.seal.manufacturer)
            m.seal = e.seal.tag
            m.dwell = span(e.firstSeen, e.lastSeen)
            m.reportCount = e.reportCount
            m.status = UInt32(e.status.rawValue)
            m.evicted = e.evicted
            return .sealDeparted(m)
        case .vehicle(let e):
            var m = Lanegate_V1_Vehicle()
            m.loop = tables.name(layout.loopName(e.loop))
            m.occupancy = span(e.onTime, e.offTime)
            if let speed = e.speed, speed.isFinite, speed >= 0 {
                m.speedCmS = UInt32(clamping: Int64((speed * 100).rounded()))
            }
            if let length = e.length, length.isFinite {
                m.lengthCm = Int32(clamping: Int64((length * 100).rounded()))
            }
            return .vehicle(m)
        case .detectorFault(let e):
            var m = Lanegate_V1_DetectorFault()
            m.loop = tables.name(layout.loopName(e.loop))
            m.kind = Lanegate_V1_FaultKind(rawValue: Int(e.kind.rawValue)) ?? .unspecified
            m.raised = e.raised
            return .detectorFault(m)
        case .deviceStatus(let e):
            var m = Lanegate_V1_DeviceStatus()
            m.device = tables.name(layout.deviceName(e.device))
            m.state = Lanegate_V1_DeviceState(rawValue: Int(e.state.rawValue)) ?? .unspecified
            m.detail = tables.name(e.detail)
            return .deviceStatus(m)
        case .gap(let e):
            var m = Lanegate_V1_Gap()
            m.reason = Lanegate_V1_GapReason(rawValue: Int(e.reason.rawValue)) ?? .unspecified
            if let device = e.device { m.device = tables.name(layout.deviceName(device)) }
            m.lost = e.lost
            return .gap(m)
        }
    }

    /// The per-batch tables: each distinct name or tag is written once, in order of first use.
    private struct Tables {
        var names: [String] = []
        var tags: [Data] = []
        private var nameIndex: [String: UInt32] = [:]
        private var tagIndex: [TagID: UInt32] = [:]

        mutating func name(_ s: String) -> UInt32 {
            if let i = nameIndex[s] { return i }
            let i = UInt32(names.count)
            names.append(s)
            nameIndex[s] = i
            return i
        }

        mutating func tag(_ t: TagID) -> UInt32 {
            if let i = tagIndex[t] { return i }
            let i = UInt32(tags.count)
            tags.append(Data(t.bytes))
            tagIndex[t] = i
            return i
        }
    }
}

extension Lanegate_V1_ClockAnchor {
    init(_ anchor: ClockAnchor) {
        self.init()
        utcOffsetNs = anchor.utcNanoseconds &- anchor.monotonic.nanoseconds
        sync = Lanegate_V1_ClockSync(rawValue: Int(anchor.sync.rawValue)) ?? .unknown
        maxErrorUs = anchor.maxErrorMicros
        estErrorUs = anchor.estimatedErrorMicros
    }
}

extension Lanegate_V1_Counters {
    init(_ c: PipelineCounters) {
        self.init()
        detections = c.detections
        tagReads = c.tagReads
        sealReports = c.sealReports
        loopEdges = c.loopEdges
        unmapped = c.unmapped
        late = c.late
        noise = c.noise
        evictedTags = c.evictedTags
        evictedSeals = c.evictedSeals
        bouncedEdges = c.bouncedEdges
        repeatedEdges = c.repeatedEdges
        ringDrops = c.ringDrops
    }
}
