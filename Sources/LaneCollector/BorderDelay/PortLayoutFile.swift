import LaneAnalytics
import LaneTOML
import TOMLKit

/// What the port file defines.
public struct PortFile: Sendable {
    public var ports: [PortLayout]
    /// The expected times of sealed shipments between ports.
    public var transitRoutes: [TransitRoute]
}

/// The collector's port file: one `[[port]]` table per port and direction, each with the
/// `[[port.point]]` read points of its route, and `[[transit]]` tables giving the expected time
/// of a sealed shipment between two of them. Validated at start; every problem is reported
/// with its line, the way the gateway's configuration is.
public enum PortLayoutFile {
    /// The ports of `text`; with `knownGateways`, a point naming any other gateway is an error.
    public static func parse(_ text: String, file: String, knownGateways: Set<String>? = nil) throws -> [PortLayout] {
        try read(text, file: file, knownGateways: knownGateways).ports
    }

    /// Parses `text`; with `knownGateways`, a point naming any other gateway is an error.
    public static func read(_ text: String, file: String, knownGateways: Set<String>? = nil) throws -> PortFile {
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw ConfigError(file: file, line: error.source.begin.line, key: nil, message: "not valid TOML: \(error.description)")
        }
        var reader = PortReader(file: file, locator: TOMLKeyLocator(text: text), knownGateways: knownGateways)
        let ports = reader.read(root)
        let routes = reader.readRoutes(root, ports: Set(ports.map(\.id)))
        guard reader.errors.isEmpty else { throw ConfigErrors(errors: reader.errors) }
        return PortFile(ports: ports, transitRoutes: routes)
    }
}

private struct PortReader: TOMLFieldReader {
    let file: String
    let locator: TOMLKeyLocator
    let knownGateways: Set<String>?
    var errors: [ConfigError] = []

    init(file: String, locator: TOMLKeyLocator, knownGateways: Set<String>?) {
        self.file = file
        self.locator = locator
        self.knownGateways = knownGateways
    }

    mutating func read(_ root: TOMLTable) -> [PortLayout] {
        checkKeys(root, path: "", allowed: ["port", "transit"])
        var ports: [PortLayout] = []
        var owner: [ReadPlace: String] = [:]
        for (i, table) in tables(root, "port", path: "port").enumerated() {
            let path = "port[\(i)]"
            checkKeys(table, path: path, allowed: ["id", "name", "number", "crossing", "direction", "point", "max_wait_minutes",
                                                  "max_crossing_minutes", "min_wait_seconds", "min_crossing_seconds",
                                                  "congested_above_minutes", "utc_offset_minutes", "time_zone"])
            let id = string(table, "id", path: path + ".id") ?? ""
            if !id.isEmpty, !id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) || id.count > 64 {
                fail(path + ".id", "must be 1 to 64 letters, digits, '-' or '_' (it appears in URLs), got \"\(id)\"")
            }
            if ports.contains(where: { $0.id == id }) { fail(path + ".id", "port \"\(id)\" is defined twice") }
            var port = PortLayout(id: id, name: string(table, "name", path: path + ".name") ?? id,
                                  number: string(table, "number", path: path + ".number", required: false) ?? "",
                                  crossing: string(table, "crossing", path: path + ".crossing", required: false) ?? "",
                                  direction: string(table, "direction", path: path + ".direction") ?? "", points: [])
            port.bounds = readBounds(table, path: path)
            port.utcOffsetMinutes = integer(table, "utc_offset_minutes", path: path + ".utc_offset_minutes", in: -720...840) ?? 0
            port.timeZone = string(table, "time_zone", path: path + ".time_zone", required: false) ?? "UTC"
            for (j, entry) in tables(table, "point", path: path + ".point").enumerated() {
                guard let point = readPoint(entry, path: "\(path).point[\(j)]") else { continue }
                if let other = owner[point.place] {
                    fail("\(path).point[\(j)]", "\(point.place) is already a point of port \"\(other)\"; a read point belongs to one route, at one stage")
                    continue
                }
                owner[point.place] = id
                port.points.append(point)
            }
            let stages = Set(port.points.map(\.stage))
            if !stages.contains(.queueEnd) { fail(path, "needs a point with stage = \"queue_end\": trips start there") }
            if !stages.contains(.booth) && !stages.contains(.exit) {
                fail(path, "needs a point with stage = \"booth\" or \"exit\": a trip ends at one of them")
            }
            ports.append(port)
        }
        if ports.isEmpty { fail("port", "the file defines no [[port]]") }
        return ports
    }

    /// `[[transit]]`: `from` and `to` (port ids) and `expected_minutes`, once per ordered pair.
    mutating func readRoutes(_ root: TOMLTable, ports: Set<String>) -> [TransitRoute] {
        var routes: [TransitRoute] = []
        for (i, t) in tables(root, "transit", path: "transit").enumerated() {
            let path = "transit[\(i)]"
            checkKeys(t, path: path, allowed: ["from", "to", "expected_minutes"])
            guard let from = string(t, "from", path: path + ".from"), let to = string(t, "to", path: path + ".to") else { continue }
            for (key, port) in [("from", from), ("to", to)] where !ports.contains(port) {
                fail("\(path).\(key)", "\"\(port)\" is not a port of this file")
            }
            if from == to { fail(path + ".to", "must differ from from: a transit goes between two ports") }
            guard let minutes = integer(t, "expected_minutes", path: path + ".expected_minutes", in: 1...43_200) else {
                if t["expected_minutes"] == nil { fail(path + ".expected_minutes", "missing (whole minutes, 1 to 43200)") }
                continue
            }
            if routes.contains(where: { $0.from == from && $0.to == to }) {
                fail(path, "the transit from \"\(from)\" to \"\(to)\" is defined twice")
            }
            routes.append(TransitRoute(from: from, to: to, expected: Int64(minutes) * 60_000_000_000))
        }
        return routes
    }

    mutating func readPoint(_ t: TOMLTable, path: String) -> PortPoint? {
        checkKeys(t, path: path, allowed: ["stage", "gateway", "read_point", "lane_type", "lane"])
        guard let stageName = string(t, "stage", path: path + ".stage"),
              let gateway = string(t, "gateway", path: path + ".gateway"),
              let readPoint = string(t, "read_point", path: path + ".read_point") else { return nil }
        guard let stage = Stage(name: stageName) else {
            fail(path + ".stage", "must be \"queue_end\", \"booth\" or \"exit\", got \"\(stageName)\"")
            return nil
        }
        if let knownGateways, !knownGateways.contains(gateway) {
            fail(path + ".gateway", "\"\(gateway)\" is not a known gateway (not in the --tokens file, or not registered in the store)")
        }
        let laneType = string(t, "lane_type", path: path + ".lane_type", required: stage == .booth)
        if stage == .booth && laneType == nil { return nil }
        return PortPoint(place: ReadPlace(gateway: gateway, readPoint: readPoint), stage: stage, laneType: laneType,
                         lane: string(t, "lane", path: path + ".lane", required: false))
    }

    mutating func readBounds(_ t: TOMLTable, path: String) -> SegmentBounds {
        var b = SegmentBounds()
        let second: Int64 = 1_000_000_000, minute = 60 * second
        if let n = integer(t, "max_wait_minutes", path: path + ".max_wait_minutes", in: 1...1440) { b.maxWait = Int64(n) * minute }
        if let n = integer(t, "max_crossing_minutes", path: path + ".max_crossing_minutes", in: 1...2880) { b.maxCrossing = Int64(n) * minute }
        if let n = integer(t, "min_wait_seconds", path: path + ".min_wait_seconds", in: 0...3600) { b.minWait = Int64(n) * second }
        if let n = integer(t, "min_crossing_seconds", path: path + ".min_crossing_seconds", in: 0...3600) { b.minCrossing = Int64(n) * second }
        if let n = integer(t, "congested_above_minutes", path: path + ".congested_above_minutes", in: 1...1440) { b.congestedAbove = Int64(n) * minute }
        if b.minWait >= b.maxWait { fail(path + ".min_wait_seconds", "must be below max_wait_minutes") }
        if b.minCrossing >= b.maxCrossing { fail(path + ".min_crossing_seconds", "must be below max_crossing_minutes") }
        if b.maxCrossing < b.maxWait { fail(path + ".max_crossing_minutes", "must be at least max_wait_minutes: the crossing includes the wait") }
        return b
    }
}
