/// An index into ``LaneLayout/readPoints``.
public typealias ReadPointIndex = UInt16
/// An index into ``LaneLayout/loops``.
public typealias LoopIndex = UInt16

/// What the pipeline makes of raw detections: one event per thing that happened in the lane.
/// Names are indices into the ``LaneLayout``; the wire encoder turns them into strings.
public enum LaneEvent: Sendable, Hashable {
    case tagArrived(TagArrival)
    case tagDeparted(TagDeparture)
    case sealSeen(SealSighting)
    case sealChanged(SealChange)
    case sealDeparted(SealDeparture)
    case vehicle(VehiclePassage)
    case detectorFault(DetectorFault)
    case deviceStatus(DeviceStatusChange)
    case gap(Gap)
    case plateRead(PlateRead)
    case passage(PassageRecord)

    /// The instant the event is about (not when the pipeline noticed it).
    public var time: MonotonicInstant {
        switch self {
        case .tagArrived(let e): e.time
        case .tagDeparted(let e): e.lastSeen
        case .sealSeen(let e): e.time
        case .sealChanged(let e): e.time
        case .sealDeparted(let e): e.lastSeen
        case .vehicle(let e): e.offTime
        case .detectorFault(let e): e.time
        case .deviceStatus(let e): e.time
        case .gap(let e): e.time
        case .plateRead(let e): e.time
        case .passage(let e): e.offTime
        }
    }

    /// Priority events (seal status changes, a seal first seen already tampered or opened,
    /// detector and device faults, data loss) are an alarm for somebody: they close the open
    /// batch at once and travel ahead of routine traffic.
    public var isPriority: Bool {
        switch self {
        case .sealChanged, .detectorFault, .gap: true
        case .sealSeen(let e): !e.status.isDisjoint(with: [.tampered, .opened])
        case .deviceStatus(let e): e.state == .lost || e.state == .error
        default: false
        }
    }

    /// The snake_case name used in JSON output and the wire schema's documentation.
    public var typeName: String {
        switch self {
        case .tagArrived: "tag_arrived"
        case .tagDeparted: "tag_departed"
        case .sealSeen: "seal_seen"
        case .sealChanged: "seal_changed"
        case .sealDeparted: "seal_departed"
        case .vehicle: "vehicle"
        case .detectorFault: "detector_fault"
        case .deviceStatus: "device_status"
        case .gap: "gap"
        case .plateRead: "plate_read"
        case .passage: "passage"
        }
    }
}

/// A tag became present at a read point: stamped with its first read's time.
public struct TagArrival: Sendable, Hashable {
    public var readPoint: ReadPointIndex
    /// The EPC, or its keyed pseudonym when privacy is on.
    public var tag: TagID
    public var time: MonotonicInstant
    /// Peak RSSI over the reads so far, dBm.
    public var peakRSSI: Int8
    /// Bit `p` set: antenna port `p` saw the tag (ports 0–63).
    public var antennas: UInt64

    public init(readPoint: ReadPointIndex, tag: TagID, time: MonotonicInstant, peakRSSI: Int8, antennas: UInt64) {
        self.readPoint = readPoint
        self.tag = tag
        self.time = time
        self.peakRSSI = peakRSSI
        self.antennas = antennas
    }
}

/// A present tag was not read for longer than the read point's `depart_after` (or was evicted).
public struct TagDeparture: Sendable, Hashable {
    public var readPoint: ReadPointIndex
    public var tag: TagID
    public var firstSeen: MonotonicInstant
    public var lastSeen: MonotonicInstant
    public var readCount: UInt32
    public var peakRSSI: Int8
    public var antennas: UInt64
    /// The memory cap on present tags forced it out before it went quiet.
    public var evicted: Bool

    public init(readPoint: ReadPointIndex, tag: TagID, firstSeen: MonotonicInstant, lastSeen: MonotonicInstant,
                readCount: UInt32, peakRSSI: Int8, antennas: UInt64, evicted: Bool) {
        self.readPoint = readPoint
        self.tag = tag
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.readCount = readCount
        self.peakRSSI = peakRSSI
        self.antennas = antennas
        self.evicted = evicted
    }
}

/// A seal's first report at a read point.
public struct SealSighting: Sendable, Hashable {
    public var readPoint: ReadPointIndex
    public var seal: SealID
    public var time: MonotonicInstant
    public var status: SealStatus
    public var eventCount: UInt16
    public var eventTime: UInt32
    public var rssi: Int8

    public init(readPoint: ReadPointIndex, seal: SealID, time: MonotonicInstant, status: SealStatus,
                eventCount: UInt16, eventTime: UInt32, rssi: Int8) {
        self.readPoint = readPoint
        self.seal = seal
        self.time = time
        self.status = status
        self.eventCount = eventCount
        self.eventTime = eventTime
        self.rssi = rssi
    }
}

/// A present seal reported a different status: always priority.
public struct SealChange: Sendable, Hashable {
    public var readPoint: ReadPointIndex
    public var seal: SealID
    public var time: MonotonicInstant
    public var previous: SealStatus
    public var status: SealStatus
    public var eventCount: UInt16
    public var eventTime: UInt32

    public init(readPoint: ReadPointIndex, seal: SealID, time: MonotonicInstant, previous: SealStatus,
                status: SealStatus, eventCount: UInt16, eventTime: UInt32) {
        self.readPoint = readPoint
        self.seal = seal
        self.time = time
        self.previous = previous
        self.status = status
        self.eventCount = eventCount
        self.eventTime = eventTime
    }
}

/// A seal went quiet for longer than the read point's `depart_after`.
public struct SealDeparture: Sendable, Hashable {
    public var readPoint: ReadPointIndex
    public var seal: SealID
    public var firstSeen: MonotonicInstant
    public var lastSeen: MonotonicInstant
    public var reportCount: UInt32
    /// The last status heard.
    public var status: SealStatus
    public var evicted: Bool

    public init(readPoint: ReadPointIndex, seal: SealID, firstSeen: MonotonicInstant, lastSeen: MonotonicInstant,
                reportCount: UInt32, status: SealStatus, evicted: Bool) {
        self.readPoint = readPoint
        self.seal = seal
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.reportCount = reportCount
        self.status = status
        self.evicted = evicted
    }
}

/// One vehicle over one loop: an accepted on → off interval.
public struct VehiclePassage: Sendable, Hashable {
    public var loop: LoopIndex
    public var onTime: MonotonicInstant
    public var offTime: MonotonicInstant
    /// Metres per second, on the downstream loop of a speed trap when an upstream call matched.
    public var speed: Double?
    /// Metres: speed × on-time − loop length (presence mode only).
    public var length: Double?

    public init(loop: LoopIndex, onTime: MonotonicInstant, offTime: MonotonicInstant, speed: Double? = nil, length: Double? = nil) {
        self.loop = loop
        self.onTime = onTime
        self.offTime = offTime
        self.speed = speed
        self.length = length
    }
}

/// NTCIP 1202-style detector diagnostics.
public enum DetectorFaultKind: UInt8, Sendable, Hashable, CaseIterable {
    /// No call for the configured time: a stuck-off or cut loop.
    case noActivity = 1
    /// A call longer than the configured time: stuck on, or a fail-safe card's fault call.
    case maxPresence = 2
    /// More actuations a minute than configured: chatter.
    case erraticCounts = 3

    public var name: String {
        switch self {
        case .noActivity: "no_activity"
        case .maxPresence: "max_presence"
        case .erraticCounts: "erratic_counts"
        }
    }
}

/// A detector fault raised or cleared; each fault is raised once and cleared once.
public struct DetectorFault: Sendable, Hashable {
    public var loop: LoopIndex
    public var kind: DetectorFaultKind
    public var raised: Bool
    /// When the condition became true (raised) or stopped being true (cleared).
    public var time: MonotonicInstant

    public init(loop: LoopIndex, kind: DetectorFaultKind, raised: Bool, time: MonotonicInstant) {
        self.loop = loop
        self.kind = kind
        self.raised = raised
        self.time = time
    }
}

/// A device's supervision state.
public enum DeviceState: UInt8, Sendable, Hashable, CaseIterable {
    case connected = 1, configured = 2, reading = 3, lost = 4, error = 5

    public var name: String {
        switch self {
        case .connected: "connected"
        case .configured: "configured"
        case .reading: "reading"
        case .lost: "lost"
        case .error: "error"
        }
    }
}

public struct DeviceStatusChange: Sendable, Hashable {
    public var device: DeviceIndex
    public var state: DeviceState
    public var detail: String
    public var time: MonotonicInstant

    public init(device: DeviceIndex, state: DeviceState, detail: String, time: MonotonicInstant) {
        self.device = device
        self.state = state
        self.detail = detail
        self.time = time
    }
}

/// Why data was lost. Loss is never silent: each becomes a ``Gap`` that travels upstream.
public enum GapReason: UInt8, Sendable, Hashable, CaseIterable {
    /// A device's ring was full when the driver pushed.
    case ringOverflow = 1
    /// The spool hit its cap and dropped routine data by policy.
    case spoolFull = 2
    /// Data outlived its configured time-to-live in the spool.
    case expired = 3
    /// The spool file was unreadable and was moved aside.
    case spoolCorrupt = 4
    /// The machine lost power or crashed while the gateway ran; how much of the last moment
    /// was lost is not known (`lost` is 0), at most the spool's durability window.
    case powerLoss = 5

    public var name: String {
        switch self {
        case .ringOverflow: "ring_overflow"
        case .spoolFull: "spool_full"
        case .expired: "expired"
        case .spoolCorrupt: "spool_corrupt"
        case .powerLoss: "power_loss"
        }
    }
}

public struct Gap: Sendable, Hashable {
    public var time: MonotonicInstant
    public var reason: GapReason
    /// The device whose data was lost, when the loss is one device's.
    public var device: DeviceIndex?
    /// How many detections, events or batches were lost (see ``reason``).
    public var lost: UInt64

    public init(time: MonotonicInstant, reason: GapReason, device: DeviceIndex?, lost: UInt64) {
        self.time = time
        self.reason = reason
        self.device = device
        self.lost = lost
    }
}

/// A licence-plate camera reported a vehicle at its read point, stamped when the push reached
/// the gateway. The plate is pseudonymised with the site key like tags, unless the site keeps
/// raw plates; pictures stay at the booth, and at most one picture's SHA-256 goes with the read.
public struct PlateRead: Sendable, Hashable {
    public var readPoint: ReadPointIndex
    public var time: MonotonicInstant
    /// Nil when the camera saw a vehicle but read no plate: never a guess.
    public var plate: PlateKey?
    /// The camera's confidence, per mille.
    public var confidence: UInt16?
    /// Country, state or province, as the camera gave it.
    public var region: String?
    /// SHA-256 of the picture the read came with (32 bytes).
    public var picture: [UInt8]?

    public init(readPoint: ReadPointIndex, time: MonotonicInstant, plate: PlateKey?, confidence: UInt16? = nil,
                region: String? = nil, picture: [UInt8]? = nil) {
        self.readPoint = readPoint
        self.time = time
        self.plate = plate
        self.confidence = confidence
        self.region = region
        self.picture = picture
    }
}

/// A plate as it leaves the pipeline: its keyed pseudonym, or the plate itself where the site
/// keeps raw plates.
public enum PlateKey: Sendable, Hashable {
    /// ``TagPseudonymizer/pseudonymLength`` bytes, the same for an O read as a 0.
    case pseudonym([UInt8])
    case raw(PlateText)
}

/// One vehicle through a lane, as its parts were joined at the gateway: the call on the lane's
/// passage loop, and the tags, seals and plate seen with it. A part nothing saw is empty.
public struct PassageRecord: Sendable, Hashable {
    public var loop: LoopIndex
    public var onTime: MonotonicInstant
    public var offTime: MonotonicInstant
    /// Tags that arrived at the lane's passage read points within the window (a car may carry
    /// several cards).
    public var tags: [TagID]
    public var seals: [SealID]
    /// The plate the lane's camera read; nil when no camera read joined, or when it read none.
    public var plate: PlateKey?
    public var plateConfidence: UInt16?
    /// The camera saw this vehicle and could not read its plate.
    public var plateMissed: Bool

    public init(loop: LoopIndex, onTime: MonotonicInstant, offTime: MonotonicInstant, tags: [TagID] = [], seals: [SealID] = [],
                plate: PlateKey? = nil, plateConfidence: UInt16? = nil, plateMissed: Bool = false) {
        self.loop = loop
        self.onTime = onTime
        self.offTime = offTime
        self.tags = tags
        self.seals = seals
        self.plate = plate
        self.plateConfidence = plateConfidence
        self.plateMissed = plateMissed
    }
}
