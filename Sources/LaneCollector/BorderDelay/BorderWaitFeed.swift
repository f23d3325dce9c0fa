import LaneAnalytics
import LaneCore

/// The live figures in the shape of the public CBP Border Wait Times feed (`bwt.xml`, and the
/// JSON of its API), so that apps and sites that read that feed can read a port's own figures.
/// Lane types map to the feed's lane blocks by name; a lane type with no block there (a name
/// not listed in ``blocks``) is left out of the feed and stays in `/v1/ports/…/wait-times`.
struct BorderWaitFeed {
    struct Port {
        var layout: PortLayout
        var estimates: [LiveEstimate]
        var lanesOpen: [String: Int]
        var lanes: [String: Int]
    }

    /// Lane type → (vehicle category, lane block) of the feed.
    static let blocks: [String: (category: String, block: String)] = [
        "general": ("passenger_vehicle_lanes", "standard_lanes"),
        "standard": ("passenger_vehicle_lanes", "standard_lanes"),
        "ready": ("passenger_vehicle_lanes", "ready_lanes"),
        "sentri": ("passenger_vehicle_lanes", "NEXUS_SENTRI_lanes"),
        "nexus": ("passenger_vehicle_lanes", "NEXUS_SENTRI_lanes"),
        "commercial": ("commercial_vehicle_lanes", "standard_lanes"),
        "fast": ("commercial_vehicle_lanes", "FAST_lanes"),
        "pedestrian": ("pedestrian_lanes", "standard_lanes"),
    ]
    static let categories = ["commercial_vehicle_lanes", "passenger_vehicle_lanes", "pedestrian_lanes"]

    var ports: [Port]
    var at: Int64

    /// One port as nested key/value pairs, in the feed's order: a value is text or a nested list.
    enum Node { case text(String), children([(String, Node)]) }

    func record(_ p: Port) -> [(String, Node)] {
        let local = CivilTime(utcNanoseconds: at, offsetMinutes: p.layout.utcOffsetMinutes)
        var out: [(String, Node)] = [
            ("port_number", .text(p.layout.number)), ("border", .text("Mexican Border")), ("port_name", .text(p.layout.name)),
            ("crossing_name", .text(p.layout.crossing)), ("hours", .text("24 hrs/day")), ("date", .text(local.feedDate)),
            ("time", .text(local.clock)), ("port_status", .text("Open")),
        ]
        for category in Self.categories {
            let types = p.layout.laneTypes.filter { Self.blocks[$0]?.category == category }
            guard !types.isEmpty else { continue }
            var children: [(String, Node)] = [("maximum_lanes", .text("\(types.reduce(0) { $0 + (p.lanes[$1] ?? 0) })"))]
            for type in types {
                guard let estimate = p.estimates.first(where: { $0.laneType == type }) else { continue }
                let open = p.lanesOpen[type] ?? 0
                let minutes = estimate.wait.map { Int(($0 / 60).rounded()) }
                let status = open == 0 ? "Lanes Closed" : minutes == nil ? "Update Pending" : minutes! == 0 ? "no delay" : "delay"
                children.append((Self.blocks[type]!.block, .children([
                    ("update_time", .text("At \(local.feedClock) \(p.layout.timeZone)")), ("operational_status", .text(status)),
                    ("delay_minutes", .text(open == 0 ? "" : minutes.map(String.init) ?? "")), ("lanes_open", .text("\(open)")),
                ])))
            }
            out.append((category, .children(children)))
        }
        return out
    }

    var xml: String {
        let local = CivilTime(utcNanoseconds: at, offsetMinutes: ports.first?.layout.utcOffsetMinutes ?? 0)
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<border_wait_time>\n"
        out += "<last_updated_date>\(local.feedDate)</last_updated_date>\n<last_updated_time>\(local.clock)</last_updated_time>\n"
        for p in ports { out += "<port>" + Self.xml(record(p)) + "</port>\n" }
        return out + "</border_wait_time>\n"
    }

    var json: String { "[" + ports.map { Self.json(record($0)) }.joined(separator: ",") + "]\n" }

    static func xml(_ nodes: [(String, Node)]) -> String {
        nodes.map { key, node in
            switch node {
            case .text(let t): "<\(key)>\(escaped(t))</\(key)>"
            case .children(let c): "<\(key)>\(xml(c))</\(key)>"
            }
        }.joined()
    }

    static func json(_ nodes: [(String, Node)]) -> String {
        "{" + nodes.map { key, node in
            switch node {
            case .text(let t): "\(jsonQuoted(key)):\(jsonQuoted(t))"
            case .children(let c): "\(jsonQuoted(key)):\(json(c))"
            }
        }.joined(separator: ",") + "}"
    }

    static func escaped(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}

extension CivilTime {
    /// "11/29/2026", as the feed writes dates.
    var feedDate: String { "\(month)/\(day)/\(year)" }
    /// "5:05 pm", as the feed writes update times.
    var feedClock: String { "\(hour % 12 == 0 ? 12 : hour % 12):\(Self.two(minute)) \(hour < 12 ? "am" : "pm")" }
}
