#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LaneCore
import SwiftProtobuf

/// Turns closed batches into wire bytes: protobuf (`lanegate.v1.Batch`, events by column), then zstd.
public struct BatchEncoder: Sendable {
    public var gatewayID: String
    public var layout: LaneLayout
    /// The unit of wire times; event times are floored to it. Milliseconds by default: speed and
    /// length are computed on the gateway from nanosecond edge times, so the collector loses
    /// nothing it uses, and every time field is two bytes shorter than in microseconds.
    public var timeUnitNanoseconds: Int64
    public var compressionLevel: Int32
    public var bootID: String
    /// Whether to compress with the shipped dictionary (nil: never), decided batch by batch.
    public var dictionaryUse: DictionaryUse?

    public init(gatewayID: String, layout: LaneLayout, timeUnitNanoseconds: Int64 = 1_000_000,
                compressionLevel: Int32 = Zstd.batchLevel, bootID: String = "", dictionaryUse: DictionaryUse? = nil) {
        precondition(timeUnitNanoseconds > 0 && timeUnitNanoseconds <= 1_000_000_000, "time unit out of range")
        self.gatewayID = gatewayID
        self.layout = layout
        self.timeUnitNanoseconds = timeUnitNanoseconds
        self.compressionLevel = compressionLevel
        self.bootID = bootID
        self.dictionaryUse = dictionaryUse
    }

    /// The compressed wire bytes of `batch`.
    public func encode(_ batch: EventBatch) -> [UInt8] {
        // Serializing a fully built message cannot fail: every field is set from valid values.
        let body: [UInt8] = try! message(for: batch).serializedBytes()
        if let dictionary = dictionaryUse?.dictionary { return Zstd.compress(body, dictionary: dictionary) }
        return Zstd.compress(body, level: compressionLevel)
    }

    /// The uncompressed protobuf of `batch`: what the spool journals for a batch still open.
    public func journaled(_ batch: EventBatch) -> [UInt8] {
        (try? message(for: batch).serializedBytes()) ?? []
    }

    /// A journaled batch given its final sequence number and compressed for the wire.
    public static func sequenced(journaled body: [UInt8], sequence: UInt64, level: Int32 = Zstd.batchLevel) throws(BatchDecodingError) -> [UInt8] {
        var message: Lanegate_V1_Batch
        do { message = try Lanegate_V1_Batch(serializedBytes: body) } catch {
            throw BatchDecodingError("journaled batch unreadable: \(error)")
        }
        message.sequence = sequence
        let bytes: [UInt8] = (try? message.serializedBytes()) ?? []
        return Zstd.compress(bytes, level: level)
    }

    /// The protobuf message of `batch`, before serialization.
    public func message(for batch: EventBatch) -> Lanegate_V1_Batch {
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
        var tables = Tables()
        out.kinds.reserveCapacity(batch.events.count)
        out.dt.reserveCapacity(batch.events.count)
        for event in batch.events {
            let t = units(event.time)
            out.dt.append(t &- previous)
            previous = t
            out.kinds.append(append(event, to: &out, tables: &tables))
        }
        out.names = tables.names
        out.tags = tables.tags
        out.plates = tables.plates
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

    /// Appends one row to the table of the event's kind and returns that kind.
    private func append(_ event: LaneEvent, to out: inout Lanegate_V1_Batch, tables: inout Tables) -> Lanegate_V1_EventKind {
        switch event {
        case .tagArrived(let e):
            out.tagArrivals.readPoint.append(tables.name(layout.readPointName(e.readPoint)))
            out.tagArrivals.tag.append(tables.tag(e.tag))
            out.tagArrivals.peakRssi.append(Int32(e.peakRSSI))
            out.tagArrivals.antennas.append(e.antennas)
            return .tagArrived
        case .tagDeparted(let e):
            let row = UInt32(out.tagDepartures.readPoint.count)
            out.tagDepartures.readPoint.append(tables.name(layout.readPointName(e.readPoint)))
            out.tagDepartures.tag.append(tables.tag(e.tag))
            out.tagDepartures.dwell.append(span(e.firstSeen, e.lastSeen))
            out.tagDepartures.readCount.append(e.readCount)
            out.tagDepartures.peakRssi.append(Int32(e.peakRSSI))
            out.tagDepartures.antennas.append(e.antennas)
            if e.evicted { out.tagDepartures.evictedRows.append(row) }
            return .tagDeparted
        case .sealSeen(let e):
            out.sealSightings.readPoint.append(tables.name(layout.readPointName(e.readPoint)))
            out.sealSightings.manufacturer.append(UInt32(e.seal.manufacturer))
            out.sealSightings.seal.append(e.seal.tag)
            out.sealSightings.status.append(UInt32(e.status.rawValue))
            out.sealSightings.eventCount.append(UInt32(e.eventCount))
            out.sealSightings.eventTime.append(e.eventTime)
            out.sealSightings.rssi.append(Int32(e.rssi))
            return .sealSeen
        case .sealChanged(let e):
            out.sealChanges.readPoint.append(tables.name(layout.readPointName(e.readPoint)))
            out.sealChanges.manufacturer.append(UInt32(e.seal.manufacturer))
            out.sealChanges.seal.append(e.seal.tag)
            out.sealChanges.previousStatus.append(UInt32(e.previous.rawValue))
            out.sealChanges.status.append(UInt32(e.status.rawValue))
            out.sealChanges.eventCount.append(UInt32(e.eventCount))
            out.sealChanges.eventTime.append(e.eventTime)
            return .sealChanged
        case .sealDeparted(let e):
            let row = UInt32(out.sealDepartures.readPoint.count)
            out.sealDepartures.readPoint.append(tables.name(layout.readPointName(e.readPoint)))
            out.sealDepartures.manufacturer.append(UInt32(e.seal.manufacturer))
            out.sealDepartures.seal.append(e.seal.tag)
            out.sealDepartures.dwell.append(span(e.firstSeen, e.lastSeen))
            out.sealDepartures.reportCount.append(e.reportCount)
            out.sealDepartures.status.append(UInt32(e.status.rawValue))
            if e.evicted { out.sealDepartures.evictedRows.append(row) }
            return .sealDeparted
        case .vehicle(let e):
            let row = UInt32(out.vehicles.loop.count)
            out.vehicles.loop.append(tables.name(layout.loopName(e.loop)))
            out.vehicles.occupancy.append(span(e.onTime, e.offTime))
            // Centimetres on the wire: a value that does not fit (a loop held for years makes
            // an absurd length) is left out rather than trapping or wrapping.
            if let speed = e.speed, speed >= 0, let cm = UInt32(exactly: (speed * 100).rounded()) {
                out.vehicles.speedRows.append(row)
                out.vehicles.speedCmS.append(cm)
            }
            if let length = e.length, let cm = Int32(exactly: (length * 100).rounded()) {
                out.vehicles.lengthRows.append(row)
                out.vehicles.lengthCm.append(cm)
            }
            return .vehicle
        case .detectorFault(let e):
            out.detectorFaults.loop.append(tables.name(layout.loopName(e.loop)))
            out.detectorFaults.kind.append(Lanegate_V1_FaultKind(rawValue: Int(e.kind.rawValue)) ?? .unspecified)
            out.detectorFaults.raised.append(e.raised)
            return .detectorFault
        case .deviceStatus(let e):
            out.deviceStatuses.device.append(tables.name(layout.deviceName(e.device)))
            out.deviceStatuses.state.append(Lanegate_V1_DeviceState(rawValue: Int(e.state.rawValue)) ?? .unspecified)
            out.deviceStatuses.detail.append(tables.name(e.detail))
            return .deviceStatus
        case .gap(let e):
            let row = UInt32(out.gaps.reason.count)
            out.gaps.reason.append(Lanegate_V1_GapReason(rawValue: Int(e.reason.rawValue)) ?? .unspecified)
            if let device = e.device {
                out.gaps.deviceRows.append(row)
                out.gaps.device.append(tables.name(layout.deviceName(device)))
            }
            out.gaps.lost.append(e.lost)
            return .gap
        case .plateRead(let e):
            let row = UInt32(out.plateReads.readPoint.count)
            out.plateReads.readPoint.append(tables.name(layout.readPointName(e.readPoint)))
            if let plate = e.plate {
                out.plateReads.plateRows.append(row)
                out.plateReads.plate.append(tables.plate(plate))
                if case .raw = plate { out.plateReads.rawRows.append(row) }
            }
            if let confidence = e.confidence {
                out.plateReads.confidenceRows.append(row)
                out.plateReads.confidence.append(UInt32(confidence))
            }
            if let region = e.region {
                out.plateReads.regionRows.append(row)
                out.plateReads.region.append(tables.name(region))
            }
            if let picture = e.picture {
                out.plateReads.pictureRows.append(row)
                out.plateReads.pictureSha256.append(Data(picture))
            }
            return .plateRead
        case .passage(let e):
            let row = UInt32(out.passages.loop.count)
            out.passages.loop.append(tables.name(layout.loopName(e.loop)))
            out.passages.occupancy.append(span(e.onTime, e.offTime))
            out.passages.tagCount.append(UInt32(e.tags.count))
            for tag in e.tags { out.passages.tag.append(tables.tag(tag)) }
            out.passages.sealCount.append(UInt32(e.seals.count))
            for seal in e.seals {
                out.passages.sealManufacturer.append(UInt32(seal.manufacturer))
                out.passages.seal.append(seal.tag)
            }
            if let plate = e.plate {
                out.passages.plateRows.append(row)
                out.passages.plate.append(tables.plate(plate))
                if case .raw = plate { out.passages.rawRows.append(row) }
            }
            if let confidence = e.plateConfidence {
                out.passages.plateConfidenceRows.append(row)
                out.passages.plateConfidence.append(UInt32(confidence))
            }
            if e.plateMissed { out.passages.plateMissedRows.append(row) }
            return .passage
        }
    }

    /// The per-batch tables: each distinct name or tag is written once, in order of first use.
    private struct Tables {
        var names: [String] = []
        var tags: [Data] = []
        var plates: [Data] = []
        private var nameIndex: [String: UInt32] = [:]
        private var tagIndex: [TagID: UInt32] = [:]
        private var plateIndex: [PlateKey: UInt32] = [:]

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

        mutating func plate(_ p: PlateKey) -> UInt32 {
            if let i = plateIndex[p] { return i }
            let i = UInt32(plates.count)
            switch p {
            case .pseudonym(let bytes): plates.append(Data(bytes))
            case .raw(let text): plates.append(Data(text.shown.utf8))
            }
            plateIndex[p] = i
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
        plateReads = c.plateReads
    }
}
