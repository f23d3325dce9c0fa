#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LaneCore
import SwiftProtobuf

/// A batch as the collector sees it: its header, and events whose indices refer to the batch's
/// own name table (it conforms to ``EventNaming``), with times back in monotonic nanoseconds.
public struct DecodedBatch: Sendable, EventNaming {
    public var gatewayID: String
    public var sequence: UInt64
    public var anchor: ClockAnchor
    public var priority: Bool
    public var bootID: String
    /// Present when the batch carried them.
    public var counters: PipelineCounters?
    public var names: [String]
    public var events: [LaneEvent]

    public func readPointName(_ index: ReadPointIndex) -> String { name(Int(index)) }
    public func loopName(_ index: LoopIndex) -> String { name(Int(index)) }
    public func deviceName(_ index: DeviceIndex) -> String { name(Int(index.rawValue)) }
    private func name(_ i: Int) -> String { i < names.count ? names[i] : "?" }
}

/// What a decoder may be asked to swallow. A hostile or broken batch is refused with an error
/// before it can make the decoder allocate past these limits.
public struct DecodingLimits: Sendable {
    public var maxCompressedBytes: Int
    public var maxDecompressedBytes: Int
    public var maxEvents: Int
    public var maxNames: Int

    public init(maxCompressedBytes: Int = 4 << 20, maxDecompressedBytes: Int = 32 << 20,
                maxEvents: Int = 200_000, maxNames: Int = 60_000) {
        self.maxCompressedBytes = maxCompressedBytes
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxEvents = maxEvents
        self.maxNames = maxNames
    }
}

public struct BatchDecodingError: Error, Sendable, CustomStringConvertible, Equatable {
    public var description: String
    init(_ description: String) { self.description = description }
}

public enum BatchDecoder {
    /// Decodes wire bytes (zstd-compressed protobuf) into a batch, validating every index,
    /// time and size on the way.
    public static func decode(_ bytes: [UInt8], limits: DecodingLimits = DecodingLimits()) throws(BatchDecodingError) -> DecodedBatch {
        guard bytes.count <= limits.maxCompressedBytes else {
            throw BatchDecodingError("batch of \(bytes.count) bytes exceeds the \(limits.maxCompressedBytes)-byte limit")
        }
        let body: [UInt8]
        do { body = try Zstd.decompress(bytes, limit: limits.maxDecompressedBytes) } catch {
            throw BatchDecodingError(error.description)
        }
        let message: Lanegate_V1_Batch
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 8
            message = try Lanegate_V1_Batch(serializedBytes: body, options: options)
        } catch {
            throw BatchDecodingError("not a lanegate.v1.Batch: \(error)")
        }
        return try decode(message, limits: limits)
    }

    /// Validates a parsed message and converts it.
    public static func decode(_ m: Lanegate_V1_Batch, limits: DecodingLimits = DecodingLimits()) throws(BatchDecodingError) -> DecodedBatch {
        guard !m.gatewayID.isEmpty else { throw BatchDecodingError("gateway_id is empty") }
        guard m.sequence > 0 else { throw BatchDecodingError("sequence must be 1 or more") }
        guard m.timeUnitNs > 0, m.timeUnitNs <= 1_000_000_000 else {
            throw BatchDecodingError("time_unit_ns must be 1 to 1000000000, got \(m.timeUnitNs)")
        }
        guard m.events.count <= limits.maxEvents else {
            throw BatchDecodingError("\(m.events.count) events exceed the limit of \(limits.maxEvents)")
        }
        guard m.names.count <= min(limits.maxNames, Int(UInt16.max)) else {
            throw BatchDecodingError("\(m.names.count) names exceed the limit of \(min(limits.maxNames, Int(UInt16.max)))")
        }
        var tags: [TagID] = []
        tags.reserveCapacity(m.tags.count)
        for (i, data) in m.tags.enumerated() {
            guard !data.isEmpty, let tag = TagID(bytes: data) else {
                throw BatchDecodingError("tags[\(i)] must hold 1 to \(TagID.capacity) bytes, has \(data.count)")
            }
            tags.append(tag)
        }
        var reader = EventReader(unit: Int64(m.timeUnitNs), names: m.names, tags: tags, time: m.baseTime)
        var events: [LaneEvent] = []
        events.reserveCapacity(m.events.count)
        for (i, wire) in m.events.enumerated() {
            do { events.append(try reader.event(wire)) } catch {
                throw BatchDecodingError("events[\(i)]: \(error.description)")
            }
        }
        return DecodedBatch(
            gatewayID: m.gatewayID, sequence: m.sequence,
            // The wire carries the offset: an anchor at monotonic zero is the same mapping.
            anchor: ClockAnchor(
                monotonic: .zero, utcNanoseconds: m.anchor.utcOffsetNs,
                sync: ClockSync(rawValue: UInt8(clamping: m.anchor.sync.rawValue)) ?? .unknown,
                maxErrorMicros: m.anchor.maxErrorUs, estimatedErrorMicros: m.anchor.estErrorUs),
            priority: m.priority, bootID: m.bootID, counters: m.hasCounters ? PipelineCounters(m.counters) : nil,
            names: m.names, events: events)
    }
}

/// Walks the events of one batch, keeping the running time.
private struct EventReader {
    let unit: Int64
    let names: [String]
    let tags: [TagID]
    var time: Int64

    mutating func event(_ w: Lanegate_V1_Event) throws(BatchDecodingError) -> LaneEvent {
        let (t, overflow) = time.addingReportingOverflow(w.dt)
        guard !overflow else { throw BatchDecodingError("time overflows") }
        time = t
        let at = try instant(t)
        switch w.kind {
        case .tagArrived(let e):
            return .tagArrived(TagArrival(readPoint: try name(e.readPoint), tag: try tag(e.tag), time: at,
                                          peakRSSI: try rssi(e.peakRssi), antennas: e.antennas))
        case .tagDeparted(let e):
            return .tagDeparted(TagDeparture(
                readPoint: try name(e.readPoint), tag: try tag(e.tag), firstSeen: try before(at, e.dwell),
                lastSeen: at, readCount: e.readCount, peakRSSI: try rssi(e.peakRssi), antennas: e.antennas,
                evicted: e.evicted))
        case .sealSeen(let e):
            return .sealSeen(SealSighting(
                readPoint: try name(e.readPoint), seal: try seal(e.manufacturer, e.seal), time: at,
                status: try status(e.status), eventCount: try u16(e.eventCount, "event_count"),
                eventTime: e.eventTime, rssi: try rssi(e.rssi)))
        case .sealChanged(let e):
            return .sealChanged(SealChange(
                readPoint: try name(e.readPoint), seal: try seal(e.manufacturer, e.seal), time: at,
                previous: try status(e.previousStatus), status: try status(e.status),
                eventCount: try u16(e.eventCount, "event_count"), eventTime: e.eventTime))
        case .sealDeparted(let e):
            return .sealDeparted(SealDeparture(
                readPoint: try name(e.readPoint), seal: try seal(e.manufacturer, e.seal),
                firstSeen: try before(at, e.dwell), lastSeen: at, reportCount: e.reportCount,
                status: try status(e.status), evicted: e.evicted))
        case .vehicle(let e):
            return .vehicle(VehiclePassage(
                loop: try name(e.loop), onTime: try before(at, e.occupancy), offTime: at,
                speed: e.hasSpeedCmS ? Double(e.speedCmS) / 100 : nil,
                length: e.hasLengthCm ? Double(e.lengthCm) / 100 : nil))
        case .detectorFault(let e):
            guard let kind = DetectorFaultKind(rawValue: UInt8(clamping: e.kind.rawValue)) else {
                throw BatchDecodingError("unknown detector fault kind \(e.kind.rawValue)")
            }
            return .detectorFault(DetectorFault(loop: try name(e.loop), kind: kind, raised: e.raised, time: at))
        case .deviceStatus(let e):
            guard let state = DeviceState(rawValue: UInt8(clamping: e.state.rawValue)) else {
                throw BatchDecodingError("unknown device state \(e.state.rawValue)")
            }
            return .deviceStatus(DeviceStatusChange(
                device: DeviceIndex(try name(e.device)), state: state, detail: names[Int(try name(e.detail))], time: at))
        case .gap(let e):
            guard let reason = GapReason(rawValue: UInt8(clamping: e.reason.rawValue)) else {
                throw BatchDecodingError("unknown gap reason \(e.reason.rawValue)")
            }
            return .gap(Gap(time: at, reason: reason, device: e.hasDevice ? DeviceIndex(try name(e.device)) : nil,
                            lost: e.lost))
        case nil:
            throw BatchDecodingError("event has no kind (a newer schema, or damage)")
        }
    }

    private func instant(_ units: Int64) throws(BatchDecodingError) -> MonotonicInstant {
        let (ns, overflow) = units.multipliedReportingOverflow(by: unit)
        guard !overflow else { throw BatchDecodingError("time overflows") }
        return MonotonicInstant(nanoseconds: ns)
    }

    private func before(_ end: MonotonicInstant, _ duration: UInt64) throws(BatchDecodingError) -> MonotonicInstant {
        guard duration <= UInt64(Int64.max) else { throw BatchDecodingError("duration out of range") }
        let (ns, overflow) = Int64(duration).multipliedReportingOverflow(by: unit)
        guard !overflow, case let (start, o2) = end.nanoseconds.subtractingReportingOverflow(ns), !o2 else {
            throw BatchDecodingError("duration out of range")
        }
        return MonotonicInstant(nanoseconds: start)
    }

    private func name(_ index: UInt32) throws(BatchDecodingError) -> UInt16 {
        guard Int(index) < names.count else {
            throw BatchDecodingError("name index \(index) outside the table of \(names.count)")
        }
        return UInt16(index)
    }

    private func tag(_ index: UInt32) throws(BatchDecodingError) -> TagID {
        guard Int(index) < tags.count else {
            throw BatchDecodingError("tag index \(index) outside the table of \(tags.count)")
        }
        return tags[Int(index)]
    }

    private func rssi(_ v: Int32) throws(BatchDecodingError) -> Int8 {
        guard let r = Int8(exactly: v) else { throw BatchDecodingError("RSSI \(v) dBm out of range") }
        return r
    }

    private func u16(_ v: UInt32, _ field: String) throws(BatchDecodingError) -> UInt16 {
        guard let r = UInt16(exactly: v) else { throw BatchDecodingError("\(field) \(v) out of range") }
        return r
    }

    private func status(_ v: UInt32) throws(BatchDecodingError) -> SealStatus {
        guard let b = UInt8(exactly: v) else { throw BatchDecodingError("seal status \(v) is not a byte") }
        return SealStatus(rawValue: b)
    }

    private func seal(_ manufacturer: UInt32, _ tag: UInt32) throws(BatchDecodingError) -> SealID {
        guard let m = UInt16(exactly: manufacturer) else { throw BatchDecodingError("seal manufacturer \(manufacturer) out of range") }
        return SealID(manufacturer: m, tag: tag)
    }
}

extension PipelineCounters {
    init(_ c: Lanegate_V1_Counters) {
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
