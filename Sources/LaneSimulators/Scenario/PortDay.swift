import Glibc
import LaneCore

/// A day at one port of entry, reproducible from a seed, with its ground truth: each vehicle's
/// true times at the queue end, the booth and the exit, and the tag visits the port's readers
/// would report.
///
/// Each lane type has its own approach with a queue-end reader, a queue served in order by its
/// booths, and service times of its own. Arrivals follow a daily profile with a morning and an
/// evening peak, so queues build up and drain. Readers miss a share of vehicles, some vehicles
/// carry no tag, a booth reader now and then also reads the vehicle in the next lane, some
/// vehicles are sent to secondary inspection (a long stay between booth and exit), and some tags
/// cross twice in the day.
public struct PortDay: Sendable {
    public struct LaneType: Sendable {
        public var name: String
        public var booths: Int
        public var vehiclesPerDay: Int
        /// Mean primary inspection time, seconds.
        public var service: Double
        /// Share of vehicles with a readable tag.
        public var tagged: Double

        public init(name: String, booths: Int, vehiclesPerDay: Int, service: Double, tagged: Double) {
            self.name = name
            self.booths = booths
            self.vehiclesPerDay = vehiclesPerDay
            self.service = service
            self.tagged = tagged
        }
    }

    public var seed: UInt64
    /// The port's name, the prefix of its gateways' ids.
    public var port: String
    /// UTC nanoseconds of the day's midnight.
    public var midnight: Int64
    public var laneTypes: [LaneType]
    /// Probability that a read point reads a tagged vehicle passing it.
    public var readRate = 0.9
    public var secondaryShare = 0.03
    public var crossReadShare = 0.05
    public var repeatShare = 0.05
    /// Free-flow seconds from the queue-end point to the booth, and from the booth to the exit.
    public var approach = 45.0
    public var toExit = 60.0

    public init(seed: UInt64 = 1, port: String = "port", midnight: Int64 = 1_790_000_000 / 86_400 * 86_400 * 1_000_000_000,
                laneTypes: [LaneType] = PortDay.standardLaneTypes) {
        self.seed = seed
        self.port = port
        self.midnight = midnight
        self.laneTypes = laneTypes
    }

    public static let standardLaneTypes = [
        LaneType(name: "general", booths: 4, vehiclesPerDay: 3600, service: 55, tagged: 0.6),
        LaneType(name: "ready", booths: 2, vehiclesPerDay: 2400, service: 28, tagged: 1.0),
        LaneType(name: "sentri", booths: 1, vehiclesPerDay: 900, service: 22, tagged: 1.0),
    ]

    /// A read point of the port, named as the gateways would name it.
    public struct Point: Sendable, Hashable {
        public var gateway: String
        public var readPoint: String
        /// "queue_end", "booth" or "exit".
        public var stage: String
        public var laneType: String?
        public var lane: String?
    }

    public struct Vehicle: Sendable, Hashable {
        public var tag: String?
        public var laneType: String
        public var lane: String
        /// True times, UTC nanoseconds: passing the queue-end point, reaching the booth, leaving.
        public var queueEnd: Int64
        public var booth: Int64
        public var exit: Int64
        public var secondary: Bool
        /// The stages whose reader read the vehicle's tag ("queue_end", "booth", "exit").
        public var readAt: Set<String> = []
        public var wait: Int64 { booth - queueEnd }
        public var crossing: Int64 { exit - queueEnd }
    }

    /// A tag's stay at a read point, as a gateway would report it (`tag_departed`).
    public struct Visit: Sendable, Hashable {
        public var gateway: String
        public var readPoint: String
        public var tag: String
        public var first: Int64
        public var last: Int64
        public var reads: UInt32
        public var peakRSSI: Int8
    }

    public var queueGateway: String { "\(port)-queue" }
    public var boothGateway: String { "\(port)-booths" }
    public var exitGateway: String { "\(port)-exit" }

    /// The port's read points: one queue end per lane type, one booth per lane, one exit.
    public var points: [Point] {
        var out = laneTypes.map { Point(gateway: queueGateway, readPoint: "approach-\($0.name)", stage: "queue_end", laneType: $0.name) }
        for (type, lane) in lanes { out.append(Point(gateway: boothGateway, readPoint: "\(lane)/booth", stage: "booth", laneType: type, lane: lane)) }
        out.append(Point(gateway: exitGateway, readPoint: "exit", stage: "exit"))
        return out
    }

    /// Every booth lane, numbered across lane types in order.
    private var lanes: [(type: String, lane: String)] {
        var out: [(String, String)] = []
        for t in laneTypes { for _ in 0..<t.booths { out.append((t.name, "lane\(out.count + 1)")) } }
        return out
    }

    public func run() -> (vehicles: [Vehicle], visits: [Visit]) {
        var random = SplitMix64(seed: seed)
        var vehicles: [Vehicle] = []
        var laneOffset = 0
        for type in laneTypes {
            vehicles += serve(type, firstLane: laneOffset + 1, random: &random)
            laneOffset += type.booths
        }
        vehicles.sort { $0.queueEnd < $1.queueEnd }
        assignTags(&vehicles, random: &random)
        var visits: [Visit] = []
        for i in vehicles.indices {
            let (seen, stages) = reads(of: vehicles[i], random: &random)
            visits += seen
            vehicles[i].readAt = stages
        }
        return (vehicles, visits)
    }

    /// Vehicles per hour relative to the day's mean, for hour `h` (0–24): quiet nights, a
    /// morning peak near 07:30 and a longer evening one near 17:00.
    static func profile(_ h: Double) -> Double {
        func bump(_ centre: Double, _ width: Double) -> Double { let x = (h - centre) / width; return exp(-x * x / 2) }
        return 0.25 + (h > 5.5 && h < 22 ? 0.7 : 0) + 2.2 * bump(7.5, 1.2) + 1.6 * bump(17, 1.8)
    }

    private func serve(_ type: LaneType, firstLane: Int, random: inout SplitMix64) -> [Vehicle] {
        let day = 86_400.0
        let peak = (0..<240).map { Self.profile(Double($0) / 10) }.max()!
        let mean = (0..<240).map { Self.profile(Double($0) / 10) }.reduce(0, +) / 240
        let peakRate = Double(type.vehiclesPerDay) / day * peak / mean
        var t = 0.0
        var boothFree = Array(repeating: 0.0, count: type.booths)
        var inOrder = 0.0
        var out: [Vehicle] = []
        while true {
            t += -log(1 - Double.random(in: 0..<1, using: &random)) / peakRate
            guard t < day else { break }
            guard Double.random(in: 0..<1, using: &random) < Self.profile(t / 3600) / peak else { continue }
            let booth = boothFree.indices.min { boothFree[$0] < boothFree[$1] }!
            // Served in order: no one reaches a booth before the vehicle ahead of it.
            let reach = max(t + approach, boothFree[booth], inOrder)
            inOrder = reach
            let long = Double.random(in: 0..<1, using: &random) < 0.05
            let service = type.service * Double.random(in: 0.5...1.5, using: &random) * (long ? 3 : 1)
            boothFree[booth] = reach + service
            let secondary = Double.random(in: 0..<1, using: &random) < secondaryShare
            let extra = secondary ? Double.random(in: 1200...5400, using: &random) : 0
            let leave = reach + service + toExit * Double.random(in: 0.8...1.3, using: &random) + extra
            out.append(Vehicle(tag: nil, laneType: type.name, lane: "lane\(firstLane + booth)",
                               queueEnd: midnight + Int64(t * 1e9), booth: midnight + Int64(reach * 1e9),
                               exit: midnight + Int64(leave * 1e9), secondary: secondary))
        }
        return out
    }

    /// Gives tagged vehicles a tag; a few reuse the tag of an earlier vehicle that has long left
    /// (a commuter crossing again).
    private func assignTags(_ vehicles: inout [Vehicle], random: inout SplitMix64) {
        let tagged = Dictionary(uniqueKeysWithValues: laneTypes.map { ($0.name, $0.tagged) })
        var done: [(tag: String, exit: Int64)] = []
        for i in vehicles.indices where Double.random(in: 0..<1, using: &random) < tagged[vehicles[i].laneType]! {
            if Double.random(in: 0..<1, using: &random) < repeatShare,
               let j = done.indices.last(where: { vehicles[i].queueEnd - done[$0].exit > 3600 * 1_000_000_000 }) {
                vehicles[i].tag = done.remove(at: j).tag
            } else {
                vehicles[i].tag = "e2" + hex(seed & 0xffff, digits: 4) + hex(UInt64(i), digits: 18)
            }
            done.append((vehicles[i].tag!, vehicles[i].exit))
        }
    }

    private func reads(of v: Vehicle, random: inout SplitMix64) -> ([Visit], Set<String>) {
        guard let tag = v.tag else { return ([], []) }
        var out: [Visit] = []
        var stages: Set<String> = []
        func seen(_ stage: String, _ gateway: String, _ point: String, from first: Int64, to last: Int64, reads: ClosedRange<UInt32>, rssi: ClosedRange<Int8>) {
            guard Double.random(in: 0..<1, using: &random) < readRate else { return }
            stages.insert(stage)
            let jitter = Int64.random(in: 0...2_000_000_000, using: &random)
            out.append(Visit(gateway: gateway, readPoint: point, tag: tag, first: first + jitter, last: max(first + jitter, last),
                             reads: UInt32.random(in: reads, using: &random), peakRSSI: Int8.random(in: rssi, using: &random)))
        }
        seen("queue_end", queueGateway, "approach-\(v.laneType)", from: v.queueEnd, to: v.queueEnd + 6_000_000_000, reads: 3...25, rssi: -70 ... -50)
        seen("booth", boothGateway, "\(v.lane)/booth", from: v.booth, to: v.booth + 20_000_000_000, reads: 40...300, rssi: -55 ... -35)
        if Double.random(in: 0..<1, using: &random) < crossReadShare, let neighbour = neighbourLane(of: v.lane) {
            let offset = Int64.random(in: 0...3_000_000_000, using: &random)
            out.append(Visit(gateway: boothGateway, readPoint: "\(neighbour)/booth", tag: tag, first: v.booth + offset,
                             last: v.booth + offset + 4_000_000_000, reads: UInt32.random(in: 1...15, using: &random),
                             peakRSSI: Int8.random(in: -80 ... -66, using: &random)))
        }
        seen("exit", exitGateway, "exit", from: v.exit, to: v.exit + 4_000_000_000, reads: 3...20, rssi: -70 ... -50)
        return (out, stages)
    }

    private func neighbourLane(of lane: String) -> String? {
        let n = lanes.count
        guard n > 1, let i = lanes.firstIndex(where: { $0.lane == lane }) else { return nil }
        return lanes[i + 1 < n ? i + 1 : i - 1].lane
    }
}

/// `value` in lower-case hex, zero-padded to `digits`.
private func hex(_ value: UInt64, digits: Int) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}
