/// One JSON object per event, one line each: the form `lanegate replay` prints and the collector's
/// `/v1/events` serves. Times are monotonic nanoseconds (`*_ns`); UTC placement is the batch
/// anchor's job.
extension LaneEvent {
    public func json(naming: some EventNaming) -> String {
        var o = JSONObjectWriter()
        o.field("type", typeName)
        o.field("time_ns", time.nanoseconds)
        switch self {
        case .tagArrived(let e):
            o.field("read_point", naming.readPointName(e.readPoint))
            o.field("tag", e.tag.hex)
            o.field("peak_rssi", Int64(e.peakRSSI))
            o.field("antennas", antennaPorts(e.antennas))
        case .tagDeparted(let e):
            o.field("read_point", naming.readPointName(e.readPoint))
            o.field("tag", e.tag.hex)
            o.field("first_ns", e.firstSeen.nanoseconds)
            o.field("last_ns", e.lastSeen.nanoseconds)
            o.field("reads", Int64(e.readCount))
            o.field("peak_rssi", Int64(e.peakRSSI))
            o.field("antennas", antennaPorts(e.antennas))
            if e.evicted { o.field("evicted", true) }
        case .sealSeen(let e):
            o.field("read_point", naming.readPointName(e.readPoint))
            o.field("seal", e.seal.description)
            o.field("status", e.status.names)
            o.field("seal_events", Int64(e.eventCount))
            o.field("seal_event_time", Int64(e.eventTime))
            o.field("rssi", Int64(e.rssi))
        case .sealChanged(let e):
            o.field("read_point", naming.readPointName(e.readPoint))
            o.field("seal", e.seal.description)
            o.field("previous", e.previous.names)
            o.field("status", e.status.names)
            o.field("seal_events", Int64(e.eventCount))
            o.field("seal_event_time", Int64(e.eventTime))
            o.field("priority", true)
        case .sealDeparted(let e):
            o.field("read_point", naming.readPointName(e.readPoint))
            o.field("seal", e.seal.description)
            o.field("first_ns", e.firstSeen.nanoseconds)
            o.field("last_ns", e.lastSeen.nanoseconds)
            o.field("reports", Int64(e.reportCount))
            o.field("status", e.status.names)
            if e.evicted { o.field("evicted", true) }
        case .vehicle(let e):
            o.field("loop", naming.loopName(e.loop))
            o.field("on_ns", e.onTime.nanoseconds)
            o.field("off_ns", e.offTime.nanoseconds)
            if let speed = e.speed { o.field("speed_mps", speed, decimals: 2) }
            if let length = e.length { o.field("length_m", length, decimals: 2) }
        case .detectorFault(let e):
            o.field("loop", naming.loopName(e.loop))
            o.field("fault", e.kind.name)
            o.field("state", e.raised ? "raised" : "cleared")
            o.field("priority", true)
        case .deviceStatus(let e):
            o.field("device", naming.deviceName(e.device))
            o.field("state", e.state.name)
            if !e.detail.isEmpty { o.field("detail", e.detail) }
        case .gap(let e):
            o.field("reason", e.reason.name)
            if let device = e.device { o.field("device", naming.deviceName(device)) }
            o.field("lost", Int64(clamping: e.lost))
            o.field("priority", true)
        case .plateRead(let e):
            o.field("read_point", naming.readPointName(e.readPoint))
            switch e.plate {
            case .pseudonym(let bytes): o.field("plate", bytes.lowercaseHex)
            case .raw(let text): o.field("plate_text", text.shown)
            case nil: o.field("plate_missed", true)
            }
            if let confidence = e.confidence { o.field("confidence", Double(confidence) / 1000, decimals: 3) }
            if let region = e.region { o.field("region", region) }
            if let picture = e.picture { o.field("picture_sha256", picture.lowercaseHex) }
        case .passage(let e):
            o.field("loop", naming.loopName(e.loop))
            o.field("on_ns", e.onTime.nanoseconds)
            o.field("off_ns", e.offTime.nanoseconds)
            o.field("tags", e.tags.map(\.hex))
            o.field("seals", e.seals.map(\.description))
            switch e.plate {
            case .pseudonym(let bytes): o.field("plate", bytes.lowercaseHex)
            case .raw(let text): o.field("plate_text", text.shown)
            case nil: if e.plateMissed { o.field("plate_missed", true) }
            }
            if let confidence = e.plateConfidence { o.field("plate_confidence", Double(confidence) / 1000, decimals: 3) }
        }
        return o.finish()
    }
}

/// The antenna ports whose bits are set, ascending.
public func antennaPorts(_ mask: UInt64) -> [Int64] {
    (0..<64).filter { mask & (1 << UInt64($0)) != 0 }.map(Int64.init)
}

/// Builds one flat JSON object, in field order.
public struct JSONObjectWriter {
    private var text = "{"
    /// Not `text.count > 1`: counting a String's characters walks all of it, at every field.
    private var empty = true
    public init() {}

    private mutating func key(_ name: String) {
        if !empty { text += "," }
        empty = false
        text += jsonQuoted(name) + ":"
    }

    public mutating func field(_ name: String, _ value: String) { key(name); text += jsonQuoted(value) }
    public mutating func field(_ name: String, _ value: Int64) { key(name); text += String(value) }
    public mutating func field(_ name: String, _ value: Bool) { key(name); text += value ? "true" : "false" }
    public mutating func field(_ name: String, _ values: [Int64]) {
        key(name)
        text += "[" + values.map(String.init).joined(separator: ",") + "]"
    }
    public mutating func field(_ name: String, _ values: [String]) {
        key(name)
        text += "[" + values.map(jsonQuoted).joined(separator: ",") + "]"
    }
    /// A fixed-point decimal; non-finite values become null.
    public mutating func field(_ name: String, _ value: Double, decimals: Int) {
        key(name)
        text += value.isFinite ? formatFixed(value, decimals: decimals) : "null"
    }

    public mutating func finish() -> String { text + "}" }
}

/// `text` left-aligned in a column of `width` characters; a longer text is cut so that one space
/// always separates it from the next column.
/// `text` padded with spaces to `width`; a number wider than its column is never cut (a cut
/// sequence number points at another batch), it only pushes the row along.
public func column(_ number: some BinaryInteger, width: Int) -> String {
    let text = String(number)
    return text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

public func padded(_ text: String, to width: Int) -> String {
    text.count >= width ? String(text.prefix(width - 1)) + " " : text + String(repeating: " ", count: width - text.count)
}

/// `value` with exactly `decimals` digits after the point, rounded half away from zero.
public func formatFixed(_ value: Double, decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
    guard scaled < 9e18 else { return String(value) }
    let units = Int64(scaled)
    let whole = units / Int64(scale)
    var fraction = String(units % Int64(scale))
    fraction = String(repeating: "0", count: max(0, decimals - fraction.count)) + fraction
    let sign = value < 0 && units != 0 ? "-" : ""
    return decimals == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
}
