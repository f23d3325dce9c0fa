/// What `lanegate monitor` shows, at one moment: the booth's devices, each lane's loops, recent
/// visits and seals, the link and the spool. The daemon writes one as a JSON line to each client
/// of its monitor socket four times a second, so `socat - UNIX-CONNECT:/run/lanegate/monitor.sock`
/// shows it too. Times are ages in seconds, taken when the snapshot was made: a client needs no
/// clock of the daemon's.
public struct MonitorSnapshot: Codable, Sendable, Equatable {
    /// Bumped when a field changes meaning; new fields may appear without it.
    public var version = 1
    public var gateway: String
    /// `daemon` (from the running service) or `direct` (the monitor opened the devices itself).
    public var source: String
    public var devices: [Device]
    public var lanes: [Lane]
    /// Nil where nothing is sent (direct mode).
    public var link: Link?
    public var spool: Spool?
    /// What needs attention now: raised detector faults, data lost.
    public var alerts: [String]

    public init(gateway: String, source: String, devices: [Device], lanes: [Lane], link: Link?, spool: Spool?, alerts: [String]) {
        self.gateway = gateway
        self.source = source
        self.devices = devices
        self.lanes = lanes
        self.link = link
        self.spool = spool
        self.alerts = alerts
    }

    public struct Device: Codable, Sendable, Equatable {
        public var name: String
        public var kind: String
        /// `not started`, `connected`, `configured`, `reading`, `lost` or `error`.
        public var state: String
        public var detail: String
        public var sinceSeconds: Double?
        public var detections: UInt64
        /// Input thrown away: garbage bytes, bad CRCs, bad frames and records, device-reported errors.
        public var errors: UInt64
    }

    public struct Lane: Codable, Sendable, Equatable {
        public var name: String
        public var loops: [Loop]
        public var vehicles: Int
        public var lastVehicle: Vehicle?
        public var lastPlate: Plate?
        /// Newest first.
        public var visits: [Visit]
        /// Newest first.
        public var seals: [Seal]
    }

    public struct Loop: Codable, Sendable, Equatable {
        public var name: String
        public var occupied: Bool
        /// Since the last accepted change; nil before the first.
        public var sinceSeconds: Double?
        /// Raised detector faults (`max_presence`, `no_activity`, `erratic_counts`).
        public var faults: [String]
    }

    public struct Vehicle: Codable, Sendable, Equatable {
        public var loop: String
        public var agoSeconds: Double
        public var speed: Double?
        public var length: Double?
    }

    public struct Plate: Codable, Sendable, Equatable {
        public var readPoint: String
        /// The pseudonym in hex, or the plate where the site keeps raw plates; nil: no plate read.
        public var plate: String?
        /// 0 to 1.
        public var confidence: Double?
        public var agoSeconds: Double
    }

    public struct Visit: Codable, Sendable, Equatable {
        public var readPoint: String
        public var tag: String
        public var present: Bool
        /// Reads in the whole visit; known once it departed.
        public var reads: UInt32?
        public var peakRSSI: Int
        public var antennas: [Int]
        /// Since the first read while present, since the last read once departed.
        public var agoSeconds: Double
    }

    public struct Seal: Codable, Sendable, Equatable {
        public var readPoint: String
        public var seal: String
        public var status: String
        public var present: Bool
        public var rssi: Int?
        /// Since its last report.
        public var agoSeconds: Double
    }

    public struct Link: Codable, Sendable, Equatable {
        public var collector: String
        /// `up` (the last delivery was acknowledged), `down` (the last one failed) or `idle` (nothing sent yet).
        public var state: String
        public var detail: String?
        public var acknowledged: Int
        public var retries: Int
        public var lastAcknowledgedSecondsAgo: Double?
        public var latencyMilliseconds: Double?
    }

    public struct Spool: Codable, Sendable, Equatable {
        public var batches: Int
        public var events: Int
        public var bytes: Int64
        public var deadLetters: Int
        public var degraded: String?
    }
}
