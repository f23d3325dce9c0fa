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
    /// The most events one batch may hold, whatever a decoder is configured to accept: the
    /// collector numbers an event by its batch and its index in 16 bits, so a larger batch
    /// could not be paged back whole. The gateway's batcher stays below it.
    public static let eventsPerBatch = 65_535
    /// Event times a batch may place in UTC, nanoseconds: within 230 years of 1970 either way
    /// (a replayed trace anchors at UTC 0, so its events fall just before 1970). Beyond that a
    /// time is damage or an attack, and arithmetic on it could overflow.
    public static let utcRange: ClosedRange<Int64> = -7_258_118_400_000_000_000...7_258_118_400_000_000_000

    public var maxCompressedBytes: Int
    public var maxDecompressedBytes: Int
    public var maxEvents: Int
    public var maxNames: Int

    public init(maxCompressedBytes: Int = 4 << 20, maxDecompressedBytes: Int = 32 << 20,
                maxEvents: Int = DecodingLimits.eventsPerBatch, maxNames: Int = 60_000) {
        self.maxCompressedBytes = maxCompressedBytes
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxEvents = min(maxEvents, Self.eventsPerBatch)
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
        // Stores keep sequences as signed 64-bit integers, as SQL and most languages do.
        guard m.sequence > 0, m.sequence <= UInt64(Int64.max) else {
            throw BatchDecodingError("sequence must be 1 to \(Int64.max), got \(m.sequence)")
        }
        guard m.timeUnitNs > 0, m.timeUnitNs <= 1_000_000_000 else {
            throw BatchDecodingError("time_unit_ns must be 1 to 1000000000, got \(m.timeUnitNs)")
        }
        guard m.kinds.count <= limits.maxEvents else {
            throw BatchDecodingError("\(m.kinds.count) events exceed the limit of \(limits.maxEvents)")
        }
        guard m.dt.count == m.kinds.count else {
            throw BatchDecodingError("dt has \(m.dt.count) entries for \(m.kinds.count) events")
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
        var reader = try EventReader(m, tags: tags)
        var events: [LaneEvent] = []
        events.reserveCapacity(m.kinds.count)
        var time = m.baseTime
        for i in m.kinds.indices {
            do throws(BatchDecodingError) {
                let (t, overflow) = time.addingReportingOverflow(m.dt[i])
                guard !overflow else { throw BatchDecodingError("time overflows") }
                time = t
                let event = try reader.event(m.kinds[i], at: t)
                let (utc, outside) = m.anchor.utcOffsetNs.addingReportingOverflow(event.time.nanoseconds)
                guard !outside, DecodingLimits.utcRange.contains(utc) else {
                    throw BatchDecodingError("time is more than 230 years from 1970 UTC")
                }
                events.append(event)
            } catch {
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

/// Hands out the rows of a batch's kind tables in event order, after checking that every
/// column of every table has exactly one entry per event of its kind.
private struct EventReader {
    let m: Lanegate_V1_Batch
    let unit: Int64
    let tags: [TagID]
    /// The next row of each kind's table, indexed by the kind's raw value.
    var next = [Int](repeating: 0, count: 12)
    var evictedTags: SparseColumn<Void>
    var evictedSeals: SparseColumn<Void>
    var speeds: SparseColumn<UInt32>
    var lengths: SparseColumn<Int32>
    var gapDevices: SparseColumn<UInt32>
    var plates: SparseColumn<UInt32>
    var rawPlates: SparseColumn<Void>
    var confidences: SparseColumn<UInt32>
    var regions: SparseColumn<UInt32>
    var pictures: SparseColumn<Data>
    var passagePlates: SparseColumn<UInt32>
    var passageRawPlates: SparseColumn<Void>
    var passageConfidences: SparseColumn<UInt32>
    var passageMissed: SparseColumn<Void>
    /// Where the next passage's tags and seals start in the flattened columns.
    var passageTagCursor = 0
    var passageSealCursor = 0

    init(_ m: Lanegate_V1_Batch, tags: [TagID]) throws(BatchDecodingError) {
        self.m = m
        self.unit = Int64(m.timeUnitNs)
        self.tags = tags
        var rows = [Int](repeating: 0, count: 12)
        for kind in m.kinds {
            let k = kind.rawValue
            guard (1...11).contains(k) else {
                throw BatchDecodingError("unknown event kind \(kind.rawValue) (a newer schema, or damage)")
            }
            rows[k] += 1
        }
        func columns(_ table: String, _ kind: Lanegate_V1_EventKind, _ counts: [(String, Int)]) throws(BatchDecodingError) {
            for (column, count) in counts where count != rows[kind.rawValue] {
                throw BatchDecodingError("\(table).\(column) has \(count) entries for \(rows[kind.rawValue]) events")
            }
        }
        let a = m.tagArrivals, d = m.tagDepartures, ss = m.sealSightings, sc = m.sealChanges
        let sd = m.sealDepartures, v = m.vehicles, f = m.detectorFaults, ds = m.deviceStatuses, g = m.gaps
        try columns("tag_arrivals", .tagArrived, [("read_point", a.readPoint.count), ("tag", a.tag.count),
            ("peak_rssi", a.peakRssi.count), ("antennas", a.antennas.count)])
        try columns("tag_departures", .tagDeparted, [("read_point", d.readPoint.count), ("tag", d.tag.count),
            ("dwell", d.dwell.count), ("read_count", d.readCount.count), ("peak_rssi", d.peakRssi.count),
            ("antennas", d.antennas.count)])
        try columns("seal_sightings", .sealSeen, [("read_point", ss.readPoint.count), ("manufacturer", ss.manufacturer.count),
            ("seal", ss.seal.count), ("status", ss.status.count), ("event_count", ss.eventCount.count),
            ("event_time", ss.eventTime.count), ("rssi", ss.rssi.count)])
        try columns("seal_changes", .sealChanged, [("read_point", sc.readPoint.count), ("manufacturer", sc.manufacturer.count),
            ("seal", sc.seal.count), ("previous_status", sc.previousStatus.count), ("status", sc.status.count),
            ("event_count", sc.eventCount.count), ("event_time", sc.eventTime.count)])
        try columns("seal_departures", .sealDeparted, [("read_point", sd.readPoint.count), ("manufacturer", sd.manufacturer.count),
            ("seal", sd.seal.count), ("dwell", sd.dwell.count), ("report_count", sd.reportCount.count),
            ("status", sd.status.count)])
        try columns("vehicles", .vehicle, [("loop", v.loop.count), ("occupancy", v.occupancy.count)])
        try columns("detector_faults", .detectorFault, [("loop", f.loop.count), ("kind", f.kind.count), ("raised", f.raised.count)])
        try columns("device_statuses", .deviceStatus, [("device", ds.device.count), ("state", ds.state.count), ("detail", ds.detail.count)])
        try columns("gaps", .gap, [("reason", g.reason.count), ("lost", g.lost.count)])
        evictedTags = try SparseColumn("tag_departures.evicted_rows", rows: d.evictedRows,
                                       values: [Void](repeating: (), count: d.evictedRows.count), of: rows[2])
        evictedSeals = try SparseColumn("seal_departures.evicted_rows", rows: sd.evictedRows,
                                        values: [Void](repeating: (), count: sd.evictedRows.count), of: rows[5])
        speeds = try SparseColumn("vehicles.speed", rows: v.speedRows, values: v.speedCmS, of: rows[6])
        lengths = try SparseColumn("vehicles.length", rows: v.lengthRows, values: v.lengthCm, of: rows[6])
        gapDevices = try SparseColumn("gaps.device", rows: g.deviceRows, values: g.device, of: rows[9])
        let p = m.plateReads
        try columns("plate_reads", .plateRead, [("read_point", p.readPoint.count)])
        plates = try SparseColumn("plate_reads.plate", rows: p.plateRows, values: p.plate, of: rows[10])
        rawPlates = try SparseColumn("plate_reads.raw_rows", rows: p.rawRows,
                                     values: [Void](repeating: (), count: p.rawRows.count), of: rows[10])
        confidences = try SparseColumn("plate_reads.confidence", rows: p.confidenceRows, values: p.confidence, of: rows[10])
        regions = try SparseColumn("plate_reads.region", rows: p.regionRows, values: p.region, of: rows[10])
        pictures = try SparseColumn("plate_reads.picture_sha256", rows: p.pictureRows, values: p.pictureSha256, of: rows[10])
        let v2 = m.passages
        try columns("passages", .passage, [("loop", v2.loop.count), ("occupancy", v2.occupancy.count),
            ("tag_count", v2.tagCount.count), ("seal_count", v2.sealCount.count)])
        // Counts are summed in 64 bits: a hostile count cannot wrap round to match.
        let tagTotal = v2.tagCount.reduce(UInt64(0)) { $0 + UInt64($1) }
        let sealTotal = v2.sealCount.reduce(UInt64(0)) { $0 + UInt64($1) }
        guard tagTotal == UInt64(v2.tag.count) else {
            throw BatchDecodingError("passages.tag has \(v2.tag.count) entries for tag_count's \(tagTotal)")
        }
        guard sealTotal == UInt64(v2.seal.count), v2.sealManufacturer.count == v2.seal.count else {
            throw BatchDecodingError("passages.seal has \(v2.seal.count) entries and seal_manufacturer \(v2.sealManufacturer.count) for seal_count's \(sealTotal)")
        }
        passagePlates = try SparseColumn("passages.plate", rows: v2.plateRows, values: v2.plate, of: rows[11])
        passageRawPlates = try SparseColumn("passages.raw_rows", rows: v2.rawRows,
                                            values: [Void](repeating: (), count: v2.rawRows.count), of: rows[11])
        passageConfidences = try SparseColumn("passages.plate_confidence", rows: v2.plateConfidenceRows,
                                              values: v2.plateConfidence, of: rows[11])
        passageMissed = try SparseColumn("passages.plate_missed_rows", rows: v2.plateMissedRows,
                                         values: [Void](repeating: (), count: v2.plateMissedRows.count), of: rows[11])
    }

    /// The next event of `kind`, at `units` of time.
    mutating func event(_ kind: Lanegate_V1_EventKind, at units: Int64) throws(BatchDecodingError) -> LaneEvent {
        let at = try instant(units)
        let r = next[kind.rawValue]
        next[kind.rawValue] = r + 1
        switch kind {
        case .tagArrived:
            let e = m.tagArrivals
            return .tagArrived(TagArrival(readPoint: try name(e.readPoint[r]), tag: try tag(e.tag[r]), time: at,
                                          peakRSSI: try rssi(e.peakRssi[r]), antennas: e.antennas[r]))
        case .tagDeparted:
            let e = m.tagDepartures
            return .tagDeparted(TagDeparture(
                readPoint: try name(e.readPoint[r]), tag: try tag(e.tag[r]), firstSeen: try before(at, e.dwell[r]),
                lastSeen: at, readCount: e.readCount[r], peakRSSI: try rssi(e.peakRssi[r]), antennas: e.antennas[r],
                evicted: evictedTags.value(at: r) != nil))
        case .sealSeen:
            let e = m.sealSightings
            return .sealSeen(SealSighting(
                readPoint: try name(e.readPoint[r]), seal: try seal(e.manufacturer[r], e.seal[r]), time: at,
                status: try status(e.status[r]), eventCount: try u16(e.eventCount[r], "event_count"),
                eventTime: e.eventTime[r], rssi: try rssi(e.rssi[r])))
        case .sealChanged:
            let e = m.sealChanges
            return .sealChanged(SealChange(
                readPoint: try name(e.readPoint[r]), seal: try seal(e.manufacturer[r], e.seal[r]), time: at,
                previous: try status(e.previousStatus[r]), status: try status(e.status[r]),
                eventCount: try u16(e.eventCount[r], "event_count"), eventTime: e.eventTime[r]))
        case .sealDeparted:
            let e = m.sealDepartures
            return .sealDeparted(SealDeparture(
                readPoint: try name(e.readPoint[r]), seal: try seal(e.manufacturer[r], e.seal[r]),
                firstSeen: try before(at, e.dwell[r]), lastSeen: at, reportCount: e.reportCount[r],
                status: try status(e.status[r]), evicted: evictedSeals.value(at: r) != nil))
        case .vehicle:
            let e = m.vehicles
            return .vehicle(VehiclePassage(
                loop: try name(e.loop[r]), onTime: try before(at, e.occupancy[r]), offTime: at,
                speed: speeds.value(at: r).map { Double($0) / 100 },
                length: lengths.value(at: r).map { Double($0) / 100 }))
        case .detectorFault:
            let e = m.detectorFaults
            guard let faultKind = DetectorFaultKind(rawValue: UInt8(clamping: e.kind[r].rawValue)) else {
                throw BatchDecodingError("unknown detector fault kind \(e.kind[r].rawValue)")
            }
            return .detectorFault(DetectorFault(loop: try name(e.loop[r]), kind: faultKind, raised: e.raised[r], time: at))
        case .deviceStatus:
            let e = m.deviceStatuses
            guard let state = DeviceState(rawValue: UInt8(clamping: e.state[r].rawValue)) else {
                throw BatchDecodingError("unknown device state \(e.state[r].rawValue)")
            }
            return .deviceStatus(DeviceStatusChange(
                device: DeviceIndex(try name(e.device[r])), state: state, detail: m.names[Int(try name(e.detail[r]))], time: at))
        case .gap:
            let e = m.gaps
            guard let reason = GapReason(rawValue: UInt8(clamping: e.reason[r].rawValue)) else {
                throw BatchDecodingError("unknown gap reason \(e.reason[r].rawValue)")
            }
            let device = try gapDevices.value(at: r).map { (i: UInt32) throws(BatchDecodingError) in DeviceIndex(try name(i)) }
            return .gap(Gap(time: at, reason: reason, device: device, lost: e.lost[r]))
        case .plateRead:
            let raw = rawPlates.value(at: r) != nil
            let plate = try plates.value(at: r).map { (i: UInt32) throws(BatchDecodingError) in try plateKey(i, raw: raw) }
            guard plate != nil || !raw else { throw BatchDecodingError("plate_reads.raw_rows names a row without a plate") }
            let confidence = try confidences.value(at: r).map { (c: UInt32) throws(BatchDecodingError) in try perMille(c) }
            let region = try regions.value(at: r).map { (i: UInt32) throws(BatchDecodingError) in m.names[Int(try name(i))] }
            let picture = try pictures.value(at: r).map { (d: Data) throws(BatchDecodingError) -> [UInt8] in
                guard d.count == 32 else { throw BatchDecodingError("picture_sha256 has \(d.count) bytes, not 32") }
                return [UInt8](d)
            }
            return .plateRead(PlateRead(readPoint: try name(m.plateReads.readPoint[r]), time: at, plate: plate,
                                        confidence: confidence, region: region, picture: picture))
        case .passage:
            let e = m.passages
            let raw = passageRawPlates.value(at: r) != nil
            let plate = try passagePlates.value(at: r).map { (i: UInt32) throws(BatchDecodingError) in try plateKey(i, raw: raw) }
            guard plate != nil || !raw else { throw BatchDecodingError("passages.raw_rows names a row without a plate") }
            let missed = passageMissed.value(at: r) != nil
            guard plate == nil || !missed else { throw BatchDecodingError("a passage with a plate cannot have missed it") }
            let confidence = try passageConfidences.value(at: r).map { (c: UInt32) throws(BatchDecodingError) in try perMille(c) }
            let tagEnd = passageTagCursor + Int(e.tagCount[r])
            let tags = try e.tag[passageTagCursor..<tagEnd].map { (i: UInt32) throws(BatchDecodingError) in try tag(i) }
            passageTagCursor = tagEnd
            let sealEnd = passageSealCursor + Int(e.sealCount[r])
            var seals: [SealID] = []
            for s in passageSealCursor..<sealEnd { seals.append(try seal(e.sealManufacturer[s], e.seal[s])) }
            passageSealCursor = sealEnd
            return .passage(PassageRecord(loop: try name(e.loop[r]), onTime: try before(at, e.occupancy[r]), offTime: at,
                                          tags: tags, seals: seals, plate: plate, plateConfidence: confidence, plateMissed: missed))
        case .unspecified, .UNRECOGNIZED:
            // Refused by init; kept for the switch to be exhaustive.
            throw BatchDecodingError("unknown event kind \(kind.rawValue)")
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
        guard Int(index) < m.names.count else {
            throw BatchDecodingError("name index \(index) outside the table of \(m.names.count)")
        }
        return UInt16(index)
    }

    private func tag(_ index: UInt32) throws(BatchDecodingError) -> TagID {
        guard Int(index) < tags.count else {
            throw BatchDecodingError("tag index \(index) outside the table of \(tags.count)")
        }
        return tags[Int(index)]
    }

    /// A pseudonym is 16 bytes; a raw plate is a plate's text as ``PlateText`` writes it.
    private func plateKey(_ index: UInt32, raw: Bool) throws(BatchDecodingError) -> PlateKey {
        guard Int(index) < m.plates.count else {
            throw BatchDecodingError("plate index \(index) outside the table of \(m.plates.count)")
        }
        let data = m.plates[Int(index)]
        if raw {
            let text = String(decoding: data, as: UTF8.self)
            guard let plate = PlateText(text), plate.shown == text else {
                throw BatchDecodingError("plates[\(index)] is no plate text")
            }
            return .raw(plate)
        }
        guard data.count == TagPseudonymizer.pseudonymLength else {
            throw BatchDecodingError("plates[\(index)] has \(data.count) bytes; a pseudonym has \(TagPseudonymizer.pseudonymLength)")
        }
        return .pseudonym([UInt8](data))
    }

    private func perMille(_ c: UInt32) throws(BatchDecodingError) -> UInt16 {
        guard c <= 1000 else { throw BatchDecodingError("plate confidence \(c) is over 1000 per mille") }
        return UInt16(c)
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
        guard let id = UInt16(exactly: manufacturer) else { throw BatchDecodingError("seal manufacturer \(manufacturer) out of range") }
        return SealID(manufacturer: id, tag: tag)
    }
}

/// An optional column stored sparsely: the rows that have a value, ascending, and the values.
/// Read front to back, in row order.
private struct SparseColumn<Value> {
    private let rows: [UInt32]
    private let values: [Value]
    private var cursor = 0

    init(_ name: String, rows: [UInt32], values: [Value], of rowCount: Int) throws(BatchDecodingError) {
        guard values.count == rows.count else {
            throw BatchDecodingError("\(name) has \(values.count) values for \(rows.count) rows")
        }
        var previous = -1
        for row in rows {
            guard Int(row) > previous, Int(row) < rowCount else {
                throw BatchDecodingError("\(name) rows must ascend within 0..<\(rowCount), found \(row) after \(previous)")
            }
            previous = Int(row)
        }
        self.rows = rows
        self.values = values
    }

    /// The value of `row`, when it has one; rows must be asked for in ascending order.
    mutating func value(at row: Int) -> Value? {
        guard cursor < rows.count, Int(rows[cursor]) == row else { return nil }
        cursor += 1
        return values[cursor - 1]
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
        plateReads = c.plateReads
    }
}
