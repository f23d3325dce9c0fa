/// Nanoseconds since the Unix epoch (UTC), as the collector places events.
public typealias UTCNanoseconds = Int64

/// Where a port measures: the stages a vehicle passes, each watched by read points of one or
/// more gateways. Gateways of one port share the pseudonym key, so a tag's pseudonym is the same
/// at every point and a vehicle can be re-identified from stage to stage.
public struct PortLayout: Sendable, Hashable {
    public var id: String
    public var name: String
    /// The CBP port number the public feed uses ("2404"); empty when none.
    public var number: String
    /// The crossing's name within the port ("Bridge of the Americas").
    public var crossing: String
    public var direction: String
    /// The port's local time, for the public feed's update times: its offset from UTC in minutes
    /// and its abbreviation ("MST").
    public var utcOffsetMinutes = 0
    public var timeZone = "UTC"
    public var points: [PortPoint]
    public var bounds: SegmentBounds

    public init(id: String, name: String, number: String = "", crossing: String = "", direction: String,
                points: [PortPoint], bounds: SegmentBounds = SegmentBounds()) {
        self.id = id
        self.name = name
        self.number = number
        self.crossing = crossing
        self.direction = direction
        self.points = points
        self.bounds = bounds
    }

    /// The lane types of the port, in the order their booths are listed.
    public var laneTypes: [String] {
        var seen: [String] = []
        for p in points where p.stage == .booth { if let t = p.laneType, !seen.contains(t) { seen.append(t) } }
        return seen
    }

    /// Every gateway with a read point on the route.
    public var gateways: [String] {
        var seen: [String] = []
        for p in points where !seen.contains(p.place.gateway) { seen.append(p.place.gateway) }
        return seen
    }

    public func point(at place: ReadPlace) -> PortPoint? { points.first { $0.place == place } }

    /// The points by place, for looking up many visits.
    public var pointsByPlace: [ReadPlace: PortPoint] {
        Dictionary(points.map { ($0.place, $0) }, uniquingKeysWith: { first, _ in first })
    }
}

/// A read point of a gateway: what the collector stores a tag visit under.
public struct ReadPlace: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var gateway: String
    public var readPoint: String

    public init(gateway: String, readPoint: String) {
        self.gateway = gateway
        self.readPoint = readPoint
    }

    public var description: String { "\(gateway)/\(readPoint)" }
    public static func < (a: ReadPlace, b: ReadPlace) -> Bool { (a.gateway, a.readPoint) < (b.gateway, b.readPoint) }
}

/// The stages of the route, in the order a vehicle passes them.
public enum Stage: Int, Sendable, Hashable, Comparable, CaseIterable {
    /// Where the queue usually ends: a vehicle read here has joined the queue.
    case queueEnd
    /// The primary inspection booths.
    case booth
    /// The exit of the port.
    case exit

    public var name: String {
        switch self {
        case .queueEnd: "queue_end"
        case .booth: "booth"
        case .exit: "exit"
        }
    }

    public init?(name: String) {
        guard let s = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = s
    }

    public static func < (a: Stage, b: Stage) -> Bool { a.rawValue < b.rawValue }
}

/// One measurement point of a port's route.
public struct PortPoint: Sendable, Hashable {
    public var place: ReadPlace
    public var stage: Stage
    /// The lane type this point serves: required at a booth; at the queue end when each lane
    /// type has its own approach (and queue); nil where lane types share the point.
    public var laneType: String?
    /// The lane's name at a booth ("lane3"); nil elsewhere.
    public var lane: String?

    public init(place: ReadPlace, stage: Stage, laneType: String? = nil, lane: String? = nil) {
        self.place = place
        self.stage = stage
        self.laneType = laneType
        self.lane = lane
    }
}

/// What a plausible segment time is. A visit pair outside `max…` is not matched into a trip; a
/// matched trip faster than `min…` (free flow) is rejected as impossible.
public struct SegmentBounds: Sendable, Hashable {
    public var minWait: Int64 = 10 * seconds
    public var maxWait: Int64 = 4 * 3600 * seconds
    public var minCrossing: Int64 = 30 * seconds
    public var maxCrossing: Int64 = 6 * 3600 * seconds
    /// Minutes of congestion count the 5-minute bins whose median wait is above this.
    public var congestedAbove: Int64 = 30 * 60 * seconds

    public init() {}
}

let seconds: Int64 = 1_000_000_000
