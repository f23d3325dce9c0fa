import LaneAnalytics
import LaneCore
import LaneWire

/// What every store keeps beside a batch's body, read from the decoded batch: its time span,
/// its tag visits, its seal readings, its gaps and its devices' last states. One reading for SQLite and PostgreSQL.
public struct StoredBatch: Sendable {
    public struct VisitRow: Sendable {
        public var readPoint: String
        public var tag: String
        public var firstUTC: Int64
        public var lastUTC: Int64
        public var reads: Int64
        public var rssi: Int64
        public var open: Bool
    }

    /// A seal's first report at a read point, or a change of its status there.
    public struct SealRow: Sendable {
        public var readPoint: String
        public var seal: String
        public var utc: Int64
        public var status: UInt8
        public var eventCount: UInt16
    }

    public struct DeviceState: Sendable {
        public var device: String
        public var state: String
        public var detail: String
        public var utc: Int64
    }

    public let batch: DecodedBatch
    /// The earliest and latest event time, UTC nanoseconds (0 for an empty batch).
    public let firstUTC: Int64
    public let lastUTC: Int64
    /// One row per tag arrival (an open visit) and departure (a closed one).
    public let visits: [VisitRow]
    /// One row per `seal_seen` and `seal_changed`: what transits are followed by.
    public let seals: [SealRow]
    /// Gap events, and the events they say were lost.
    public let gaps: Int
    public let lost: UInt64
    /// Device status events in batch order.
    public let devices: [DeviceState]

    public init(_ batch: DecodedBatch) {
        self.batch = batch
        let times = batch.events.map { batch.anchor.utcNanoseconds(at: $0.time) }
        firstUTC = times.min() ?? 0
        lastUTC = times.max() ?? 0
        var visits: [VisitRow] = [], seals: [SealRow] = [], devices: [DeviceState] = []
        var gaps = 0, lost: UInt64 = 0
        for (event, utc) in zip(batch.events, times) {
            switch event {
            case .tagDeparted(let e):
                visits.append(VisitRow(readPoint: batch.readPointName(e.readPoint), tag: e.tag.hex,
                                       firstUTC: batch.anchor.utcNanoseconds(at: e.firstSeen),
                                       lastUTC: batch.anchor.utcNanoseconds(at: e.lastSeen),
                                       reads: Int64(e.readCount), rssi: Int64(e.peakRSSI), open: false))
            case .tagArrived(let e):
                visits.append(VisitRow(readPoint: batch.readPointName(e.readPoint), tag: e.tag.hex, firstUTC: utc,
                                       lastUTC: utc, reads: 1, rssi: Int64(e.peakRSSI), open: true))
            case .sealSeen(let e):
                seals.append(SealRow(readPoint: batch.readPointName(e.readPoint), seal: e.seal.description, utc: utc,
                                     status: e.status.rawValue, eventCount: e.eventCount))
            case .sealChanged(let e):
                seals.append(SealRow(readPoint: batch.readPointName(e.readPoint), seal: e.seal.description, utc: utc,
                                     status: e.status.rawValue, eventCount: e.eventCount))
            case .gap(let g):
                gaps += 1
                lost &+= g.lost
            case .deviceStatus(let d):
                devices.append(DeviceState(device: batch.deviceName(d.device), state: d.state.name, detail: d.detail, utc: utc))
            default: break
            }
        }
        self.visits = visits
        self.seals = seals
        self.devices = devices
        self.gaps = gaps
        self.lost = lost
    }

    /// The lanes whose loops saw a vehicle leave in [from, to): a lane is the part of a loop's
    /// name before its "/".
    public static func vehicleLanes(in batch: DecodedBatch, from: Int64, to: Int64) -> Set<String> {
        var lanes = Set<String>()
        for case .vehicle(let v) in batch.events {
            let at = batch.anchor.utcNanoseconds(at: v.offTime)
            guard at >= from && at < to, let lane = batch.loopName(v.loop).split(separator: "/").first else { continue }
            lanes.insert(String(lane))
        }
        return lanes
    }
}

/// One page of an event query, filled from stored batches in storage order. An event's id is
/// its batch's id × 65536 + its index (a batch holds at most ``DecodingLimits/eventsPerBatch``),
/// so ids grow in storage order and serve as the cursor.
public struct EventPage {
    public let query: EventQuery
    public private(set) var events: [StoredEvent] = []
    public private(set) var resumeAfter: Int64
    private var scanned = 0
    /// The page is full, or the scan budget is spent: stop reading batches.
    public private(set) var isComplete = false

    public init(_ query: EventQuery) {
        self.query = query
        resumeAfter = query.after
    }

    /// The first batch id worth reading.
    public var firstBatchID: Int64 { query.after >> 16 }

    /// Adds the matching events of the batch stored under `batchID`.
    public mutating func add(batchID: Int64, body: [UInt8], receivedUTC: Int64) {
        guard !isComplete, let batch = try? BatchDecoder.decode(body) else { return }
        let q = query
        for (index, event) in batch.events.enumerated() {
            let id = batchID << 16 | Int64(index)
            guard id > q.after else { continue }
            if scanned == q.maxScanned {
                isComplete = true
                return
            }
            scanned += 1
            resumeAfter = id
            let utc = batch.anchor.utcNanoseconds(at: event.time)
            if let from = q.fromUTC, utc < from { continue }
            if let to = q.toUTC, utc >= to { continue }
            if let type = q.type, event.typeName != type { continue }
            if q.place != nil || q.lane != nil {
                guard let place = event.place(naming: batch) else { continue }
                if let wanted = q.place, place != wanted { continue }
                if let lane = q.lane, !place.hasPrefix(lane + "/") { continue }
            }
            events.append(StoredEvent(id: id, gateway: batch.gatewayID, sequence: batch.sequence, utcNanoseconds: utc,
                                      receivedUTCNanoseconds: receivedUTC, json: event.json(naming: batch)))
            if events.count == q.limit {
                isComplete = true
                return
            }
        }
    }
}
