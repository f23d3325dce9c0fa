import LaneCore

/// A fixed-width, 80-column view of lane events for a technician's terminal.
enum EventTable {
    static let header = "TIME (s)      EVENT          WHERE                DETAIL"

    static func row(_ event: LaneEvent, naming: some EventNaming) -> String {
        let seconds = formatFixed(Double(event.time.nanoseconds) / 1e9, decimals: 3)
        let (place, detail): (String, String)
        switch event {
        case .tagArrived(let e):
            (place, detail) = (naming.readPointName(e.readPoint), "\(e.tag.hex) \(e.peakRSSI) dBm")
        case .tagDeparted(let e):
            let dwell = formatFixed(Double(e.lastSeen.since(e.firstSeen)) / 1e9, decimals: 1)
            (place, detail) = (naming.readPointName(e.readPoint), "\(e.tag.hex) \(dwell)s \(e.readCount) reads\(e.evicted ? " EVICTED" : "")")
        case .sealSeen(let e):
            (place, detail) = (naming.readPointName(e.readPoint), "\(e.seal) \(e.status)")
        case .sealChanged(let e):
            (place, detail) = (naming.readPointName(e.readPoint), "\(e.seal) \(e.previous) -> \(e.status) !")
        case .sealDeparted(let e):
            (place, detail) = (naming.readPointName(e.readPoint), "\(e.seal) \(e.status) \(e.reportCount) reports")
        case .vehicle(let e):
            var d = "occupied " + formatFixed(Double(e.offTime.since(e.onTime)) / 1e9, decimals: 2) + "s"
            if let s = e.speed { d += " " + formatFixed(s * 3.6, decimals: 1) + " km/h" }
            if let l = e.length { d += " " + formatFixed(l, decimals: 1) + " m" }
            (place, detail) = (naming.loopName(e.loop), d)
        case .detectorFault(let e):
            (place, detail) = (naming.loopName(e.loop), "\(e.kind.name) \(e.raised ? "RAISED" : "cleared")")
        case .deviceStatus(let e):
            (place, detail) = (naming.deviceName(e.device), "\(e.state.name) \(e.detail)")
        case .gap(let e):
            (place, detail) = (e.device.map { naming.deviceName($0) } ?? "-", "\(e.lost) lost: \(e.reason.name) !")
        case .plateRead(let e):
            var d: String
            switch e.plate {
            case .pseudonym(let bytes): d = bytes.lowercaseHex
            case .raw(let text): d = text.shown
            case nil: d = "(no plate read)"
            }
            if let c = e.confidence { d += " " + formatFixed(Double(c) / 10, decimals: 1) + "%" }
            (place, detail) = (naming.readPointName(e.readPoint), d)
        case .passage(let e):
            var parts = ["\(e.tags.count) tag\(e.tags.count == 1 ? "" : "s")"]
            if !e.seals.isEmpty { parts.append("\(e.seals.count) seal\(e.seals.count == 1 ? "" : "s")") }
            switch e.plate {
            case .pseudonym: parts.append("plate")
            case .raw(let text): parts.append(text.shown)
            case nil: parts.append(e.plateMissed ? "plate unread" : "no plate")
            }
            (place, detail) = (naming.loopName(e.loop), parts.joined(separator: ", "))
        }
        return padded(seconds, to: 14) + padded(event.typeName, to: 15) + padded(place, to: 21) + detail
    }
}
