/// The lane's shape as the pipeline needs it: devices, read points, loops and speed traps, with
/// the dedup and loop parameters. Built from the configuration file by the gateway; plain values
/// here so the pipeline stays pure and replayable.
public struct LaneLayout: Sendable, Hashable {
    public var devices: [Device]
    public var readPoints: [ReadPoint]
    public var loops: [Loop]
    public var speedTraps: [SpeedTrap]
    /// How each lane's reads are joined into passage records; a lane without one makes none.
    public var passages: [PassageRule] = []
    /// At most this many tags (present or candidate) are tracked; the least recently read is
    /// evicted first, and counted.
    public var maxTrackedTags: Int
    /// At most this many seals are tracked, likewise.
    public var maxTrackedSeals: Int

    public init(devices: [Device], readPoints: [ReadPoint] = [], loops: [Loop] = [], speedTraps: [SpeedTrap] = [],
                maxTrackedTags: Int = 100_000, maxTrackedSeals: Int = 10_000) {
        self.devices = devices
        self.readPoints = readPoints
        self.loops = loops
        self.speedTraps = speedTraps
        self.maxTrackedTags = maxTrackedTags
        self.maxTrackedSeals = maxTrackedSeals
    }

    public struct Device: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable, CaseIterable {
            case rfid, eseal, loops
            /// A licence-plate camera that pushes its reads to the gateway.
            case camera
        }
        public var name: String
        public var kind: Kind
        /// A camera's plates leave the gateway as read, not pseudonymised (a site that checks
        /// plates against a list at the collector).
        public var keepsRawPlates: Bool
        public init(name: String, kind: Kind, keepsRawPlates: Bool = false) {
            self.name = name
            self.kind = kind
            self.keepsRawPlates = keepsRawPlates
        }
    }

    /// A named place in a lane (`lane3/booth`) made of one or more (device, antenna) pairs.
    public struct ReadPoint: Sendable, Hashable {
        public var name: String
        public var lane: String
        public var antennas: [Antenna]
        /// A tag or seal not heard for longer than this has departed.
        public var departAfter: Nanoseconds
        /// Reads needed before a tag counts as present.
        public var minReads: UInt32

        public init(name: String, lane: String, antennas: [Antenna], departAfter: Nanoseconds = .seconds(3), minReads: UInt32 = 1) {
            self.name = name
            self.lane = lane
            self.antennas = antennas
            self.departAfter = departAfter
            self.minReads = minReads
        }
    }

    public struct Antenna: Sendable, Hashable {
        public var device: DeviceIndex
        public var port: UInt8
        public init(device: DeviceIndex, port: UInt8) {
            self.device = device
            self.port = port
        }
    }

    /// One loop detector input.
    public struct Loop: Sendable, Hashable {
        public enum Mode: String, Sendable, Hashable, CaseIterable {
            /// The call holds while a vehicle is over the loop.
            case presence
            /// A fixed pulse on entry.
            case pulse
        }
        public var name: String
        public var lane: String
        public var device: DeviceIndex
        public var line: UInt16
        public var mode: Mode
        /// Edges closer together than this are contact bounce: both are ignored.
        public var debounce: Nanoseconds
        /// Loop length along the lane, metres (for vehicle length).
        public var loopLength: Double
        /// Raise `no_activity` after this long without a call; 0 disables.
        public var noActivityAfter: Nanoseconds
        /// Raise `max_presence` when a call lasts this long; 0 disables.
        public var maxPresence: Nanoseconds
        /// Raise `erratic_counts` above this many actuations in a minute; 0 disables.
        public var maxActuationsPerMinute: Int

        public init(name: String, lane: String, device: DeviceIndex, line: UInt16, mode: Mode = .presence,
                    debounce: Nanoseconds = .milliseconds(30), loopLength: Double = 1.8,
                    noActivityAfter: Nanoseconds = .minutes(60), maxPresence: Nanoseconds = .minutes(5),
                    maxActuationsPerMinute: Int = 70) {
            self.name = name
            self.lane = lane
            self.device = device
            self.line = line
            self.mode = mode
            self.debounce = debounce
            self.loopLength = loopLength
            self.noActivityAfter = noActivityAfter
            self.maxPresence = maxPresence
            self.maxActuationsPerMinute = maxActuationsPerMinute
        }
    }

    /// Two loops in one lane whose leading edges are `spacing` metres apart.
    public struct SpeedTrap: Sendable, Hashable {
        public var upstream: LoopIndex
        public var downstream: LoopIndex
        public var spacing: Double
        /// An upstream call older than this cannot belong to the downstream vehicle.
        public var maxTravelTime: Nanoseconds

        public init(upstream: LoopIndex, downstream: LoopIndex, spacing: Double, maxTravelTime: Nanoseconds = .seconds(5)) {
            self.upstream = upstream
            self.downstream = downstream
            self.spacing = spacing
            self.maxTravelTime = maxTravelTime
        }
    }

    /// One lane's passage records: each vehicle on `loop`, with what `readPoints` saw within
    /// `window` of its call.
    public struct PassageRule: Sendable, Hashable {
        public var loop: LoopIndex
        public var readPoints: [ReadPointIndex]
        public var window: Nanoseconds

        public init(loop: LoopIndex, readPoints: [ReadPointIndex], window: Nanoseconds = .seconds(5)) {
            self.loop = loop
            self.readPoints = readPoints
            self.window = window
        }
    }

    public func deviceIndex(named name: String) -> DeviceIndex? {
        devices.firstIndex { $0.name == name }.map { DeviceIndex(UInt16($0)) }
    }
}
