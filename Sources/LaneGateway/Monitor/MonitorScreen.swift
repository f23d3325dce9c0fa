/// Lays a ``MonitorSnapshot`` out for a terminal of `width` × `height` cells (80 × 24 over ssh
/// at a booth): a title, the link and spool, a line per device, then each lane — its loops and
/// last vehicle, its seals, its most recent tag visits — and the alerts last. Every line fits the
/// width; lanes share the rows left, seals before visits, so the screen never scrolls.
public struct MonitorScreen {
    public var width: Int
    public var height: Int
    /// ANSI colours: green for reading and occupied, red for faults, yellow for the rest.
    public var color: Bool

    public init(width: Int = 80, height: Int = 24, color: Bool = false) {
        self.width = max(40, width)
        self.height = max(12, height)
        self.color = color
    }

    public func lines(_ s: MonitorSnapshot) -> [String] {
        var top: [Row] = [title(s), link(s)]
        var deviceRows = s.devices.map(device)
        // Many devices: the ones that are not reading keep their lines first, the rest share one.
        let deviceBudget = max(2, height / 4)
        if deviceRows.count > deviceBudget {
            let trouble = s.devices.filter { $0.state != "reading" }
            let shown = trouble.prefix(deviceBudget - 1)
            let hidden = s.devices.count - shown.count, hiddenTrouble = trouble.count - shown.count
            var summary = Row([(" \(hidden) more device\(hidden == 1 ? "" : "s"): \(hidden - hiddenTrouble) reading", .good)])
            if hiddenTrouble > 0 { summary.add(", \(hiddenTrouble) not", .bad) }
            deviceRows = shown.map(device) + [summary]
        }
        top += deviceRows
        let bottom = [alerts(s)]
        let laneRows = height - top.count - bottom.count
        return (top + lanes(s.lanes, rows: laneRows) + bottom).map { $0.text(width: width, color: color) }
    }

    // MARK: Parts

    private func title(_ s: MonitorSnapshot) -> Row {
        let from = s.source == "daemon" ? "from the running daemon" : "devices opened here (daemon stopped)"
        return Row([("lanegate monitor · \(s.gateway) · \(from)", .bold)]).rightAligned("Ctrl-C quits", width: width)
    }

    private func link(_ s: MonitorSnapshot) -> Row {
        guard let link = s.link else { return Row([("nothing is sent or stored while the monitor runs the devices", .warn)]) }
        var row = Row([("collector ", .plain)])
        switch link.state {
        case "up":
            row.add("up", .good)
            row.add(" · sent \(link.acknowledged)", .plain)
            if let ago = link.lastAcknowledgedSecondsAgo { row.add(", last \(age(ago)) ago", .plain) }
            if let ms = link.latencyMilliseconds { row.add(" (\(Int(ms.rounded())) ms)", .plain) }
        case "down": row.add("DOWN", .bad)
        default: row.add("nothing sent yet", .warn)
        }
        if link.retries > 0 { row.add(" · retries \(link.retries)", .plain) }
        if let spool = s.spool {
            row.add(" · spool ", .plain)
            row.add("\(spool.batches) batch\(spool.batches == 1 ? "" : "es")", spool.batches > 20 ? .warn : .plain)
            if spool.batches > 0 { row.add(" \(bytes(spool.bytes))", .plain) }
            if spool.deadLetters > 0 { row.add(", \(spool.deadLetters) refused", .bad) }
            if let degraded = spool.degraded { row.add(" DEGRADED: \(degraded)", .bad) }
        }
        // Why the link is down goes last: it is the longest part, and cut first.
        if link.state == "down" { row.add(" · " + (link.detail ?? "no answer"), .bad) }
        return row
    }

    private func device(_ d: MonitorSnapshot.Device) -> Row {
        let tint: Tint = d.state == "reading" ? .good : (d.state == "lost" || d.state == "error") ? .bad : .warn
        var row = Row([(" " + pad(d.name, 12) + " ", .plain), (pad(d.state, 10), tint)])
        row.add(pad(d.sinceSeconds.map(age) ?? "", 6) + " ", .plain)
        if d.detections > 0 || d.state == "reading" { row.add("\(d.detections) read", .plain) }
        if d.errors > 0 { row.add(" \(d.errors) bad", .bad) }
        if !d.detail.isEmpty { row.add(" · " + d.detail, .dim) }
        return row
    }

    private func lanes(_ lanes: [MonitorSnapshot.Lane], rows: Int) -> [Row] {
        guard !lanes.isEmpty else { return rows > 0 ? [Row([("no lanes configured", .warn)])] : [] }
        // Room to spare: a blank line before each lane. Too little for every lane's header: a
        // row says how many are left out.
        let spacious = rows >= lanes.count * 3
        let minimum = spacious ? 2 : 1
        let budget = lanes.count * minimum > rows ? rows - 1 : rows
        let shown = min(lanes.count, max(0, budget / minimum))
        var out: [Row] = []
        for (n, lane) in lanes.prefix(shown).enumerated() {
            // Rows left, shared fairly among the lanes still to draw.
            let share = (budget - out.count) / (shown - n)
            if spacious { out.append(Row([("", .plain)])) }
            out.append(laneHeader(lane))
            let room = max(0, share - minimum)
            let sealRoom = min(lane.seals.count, room / 2 + (lane.visits.isEmpty ? room - room / 2 : 0))
            out += lane.seals.prefix(sealRoom).map { seal($0, lane: lane.name) }
            let visitRoom = room - sealRoom
            if lane.visits.isEmpty && lane.seals.isEmpty && visitRoom > 0 {
                out.append(Row([("   no tags or seals seen yet", .dim)]))
            } else {
                out += lane.visits.prefix(visitRoom).map { visit($0, lane: lane.name) }
            }
        }
        if shown < lanes.count {
            out.append(Row([("… \(lanes.count - shown) more lane\(lanes.count - shown == 1 ? "" : "s"): make the terminal taller", .warn)]))
        }
        return Array(out.prefix(rows))
    }

    private func laneHeader(_ lane: MonitorSnapshot.Lane) -> Row {
        var row = Row([(lane.name, .bold)])
        for loop in lane.loops {
            row.add("  \(short(loop.name, in: lane.name)) ", .plain)
            if !loop.faults.isEmpty {
                row.add("FAULT " + loop.faults.joined(separator: ","), .bad)
            } else {
                row.add(loop.occupied ? "■ on" : "□ off", loop.occupied ? .good : .plain)
            }
            if let since = loop.sinceSeconds { row.add(" \(age(since))", .dim) }
        }
        row.add("  \(lane.vehicles) vehicle\(lane.vehicles == 1 ? "" : "s")", .plain)
        if let v = lane.lastVehicle {
            row.add(", last \(age(v.agoSeconds)) ago", .plain)
            if let speed = v.speed { row.add(" \(decimal(speed * 3.6)) km/h", .plain) }
            if let length = v.length { row.add(" \(decimal(length)) m", .plain) }
        }
        if let p = lane.lastPlate {
            let plate = p.plate.map { $0.count > 12 ? "…" + $0.suffix(11) : $0 } ?? "no plate"
            row.add("  plate ", .plain)
            row.add(plate, p.plate == nil ? .bad : .good)
            if let c = p.confidence { row.add(" \(Int((c * 100).rounded()))%", .plain) }
            row.add(" \(age(p.agoSeconds)) ago", .dim)
        }
        return row
    }

    private func visit(_ v: MonitorSnapshot.Visit, lane: String) -> Row {
        let tag = v.tag.count > 24 ? "…" + v.tag.suffix(23) : v.tag
        var row = Row([("   " + pad(short(v.readPoint, in: lane), 8) + " ", .plain), (tag, v.present ? .good : .plain)])
        row.add("  " + pad("\(v.peakRSSI) dBm", 8), .plain)
        row.add(" ant " + pad(v.antennas.map(String.init).joined(separator: ","), 4), .dim)
        if v.present {
            row.add(" here \(age(v.agoSeconds))", .good)
        } else {
            row.add(" \(v.reads.map { "\($0) reads" } ?? ""), gone \(age(v.agoSeconds))", .plain)
        }
        return row
    }

    private func seal(_ s: MonitorSnapshot.Seal, lane: String) -> Row {
        let tint: Tint = s.status.contains("tampered") || s.status.contains("opened") && !s.status.contains("approved") ? .bad : .good
        var row = Row([("   " + pad(short(s.readPoint, in: lane), 8) + " seal \(s.seal) ", .plain), (s.status, tint)])
        if let rssi = s.rssi { row.add("  \(rssi) dBm", .plain) }
        row.add(s.present ? " here, \(age(s.agoSeconds))" : ", gone \(age(s.agoSeconds))", .dim)
        return row
    }

    private func alerts(_ s: MonitorSnapshot) -> Row {
        s.alerts.isEmpty ? Row([("no alerts", .dim)]) : Row([("ALERT " + s.alerts.joined(separator: " · "), .bad)])
    }

    // MARK: Text

    /// Under its lane's heading, "lane1-up" or "lane1/booth" is "up" or "booth".
    func short(_ name: String, in lane: String) -> String {
        guard name.count > lane.count + 1, name.hasPrefix(lane),
              let separator = name.dropFirst(lane.count).first, "-_/.".contains(separator) else { return name }
        return String(name.dropFirst(lane.count + 1))
    }

    /// `0.4s`, `12s`, `3m`, `2h`: ages in the fewest cells.
    func age(_ seconds: Double) -> String {
        switch seconds {
        case ..<10: decimal(seconds) + "s"
        case ..<120: "\(Int(seconds))s"
        case ..<7200: "\(Int(seconds / 60))m"
        default: "\(Int(seconds / 3600))h"
        }
    }

    private func decimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return (tenths < 0 ? "-" : "") + "\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }

    private func bytes(_ count: Int64) -> String {
        count < 10_000 ? "\(count) B" : count < 10_000_000 ? "\(count / 1000) kB" : "\(count / 1_000_000) MB"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

/// How a piece of a line is drawn when colour is on.
enum Tint {
    case plain, bold, dim, good, warn, bad

    var escape: String {
        switch self {
        case .plain: ""
        case .bold: "\u{1B}[1m"
        case .dim: "\u{1B}[2m"
        case .good: "\u{1B}[32m"
        case .warn: "\u{1B}[33m"
        case .bad: "\u{1B}[1;31m"
        }
    }
}

/// A line of tinted pieces, cut to the width by its visible characters alone.
struct Row {
    var pieces: [(String, Tint)]

    init(_ pieces: [(String, Tint)]) { self.pieces = pieces }

    mutating func add(_ text: String, _ tint: Tint) { pieces.append((text, tint)) }

    var visibleCount: Int { pieces.reduce(0) { $0 + $1.0.count } }

    /// `note` at the right edge when it fits after the row.
    func rightAligned(_ note: String, width: Int) -> Row {
        let gap = width - visibleCount - note.count
        guard gap >= 2 else { return self }
        var row = self
        row.add(String(repeating: " ", count: gap) + note, .dim)
        return row
    }

    func text(width: Int, color: Bool) -> String {
        var out = ""
        var left = width
        for (text, tint) in pieces where left > 0 {
            let cut = text.count > left ? String(text.prefix(left - 1)) + "…" : text
            left -= cut.count
            out += color && tint != .plain ? tint.escape + cut + "\u{1B}[0m" : cut
        }
        return out
    }
}
