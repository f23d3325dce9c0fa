import LaneAnalytics
import LaneCore
import LaneWire

/// Which alarms the stored facts call for. Pure: the same facts give the same alarms, ids
/// included, so the collector can look again as often as it likes without raising one twice.
public struct AlarmRules: Sendable {
    public let tracker: TransitTracker
    public let ports: [PortLayout]
    /// A gateway not heard from for longer than this is silent.
    public let silentAfter: Int64

    public init(ports: [PortLayout], tracker: TransitTracker, silentAfter: Int64) {
        self.ports = ports
        self.tracker = tracker
        self.silentAfter = silentAfter
    }

    func ports(ofGateway gateway: String) -> [String] { ports.filter { $0.gateways.contains(gateway) }.map(\.id) }

    /// Detector faults the batch reports raised.
    public func faultAlarms(_ batch: DecodedBatch, raisedUTC: Int64) -> [Alarm] {
        var out: [Alarm] = []
        for case .detectorFault(let f) in batch.events where f.raised {
            let utc = batch.anchor.utcNanoseconds(at: f.time), loop = batch.loopName(f.loop)
            out.append(Alarm(id: Alarm.id("detector_fault/\(batch.gatewayID)/\(loop)/\(f.kind.name)/\(utc)"), kind: .detectorFault,
                             gateway: batch.gatewayID, ports: ports(ofGateway: batch.gatewayID), utc: utc, raisedUTC: raisedUTC,
                             detail: "loop \(loop) of \(batch.gatewayID): \(f.kind.name)"))
        }
        return out
    }

    /// From seal readings: a seal newly reporting tampered, or opened without an approved
    /// opening; a transit that arrived with the seal's counter moved; a transit overdue, under
    /// way at `now` or arrived late.
    public func sealAlarms(_ readings: [SealReading], now: Int64, raisedUTC: Int64) -> [Alarm] {
        var out: [Alarm] = []
        var previous: [String: UInt8] = [:]
        for r in readings.sorted(by: { ($0.seal, $0.utc) < ($1.seal, $1.utc) }) {
            let flagged = Self.alarming(r.status) & ~Self.alarming(previous[r.seal] ?? 0)
            previous[r.seal] = r.status
            guard flagged != 0 else { continue }
            let port = tracker.port(of: r.place)
            out.append(Alarm(id: Alarm.id("seal_tampered/\(r.seal)/\(r.utc)"), kind: .sealTampered, gateway: r.place.gateway,
                             ports: port.map { [$0] } ?? ports(ofGateway: r.place.gateway), utc: r.utc, raisedUTC: raisedUTC,
                             detail: "seal \(r.seal) at \(r.place): \(SealStatus(rawValue: r.status).description)"))
        }
        let reported = Set(out.map(\.id))
        for t in tracker.transits(readings, now: now).transits {
            let ports = [t.origin.port] + (t.destination.map { [$0.port] } ?? [])
            if let d = t.destination, t.tampered, !reported.contains(Alarm.id("seal_tampered/\(t.seal)/\(d.first)")) {
                out.append(Alarm(id: Alarm.id("seal_tampered/\(t.seal)/\(d.first)"), kind: .sealTampered, gateway: "", ports: ports, utc: d.first,
                                 raisedUTC: raisedUTC,
                                 detail: "seal \(t.seal) arrived at \(d.port) from \(t.origin.port) with \(t.eventsBetween) seal event(s) "
                                     + "logged on the way and no approved opening"))
            }
            if t.overdue, let expected = t.expected {
                out.append(Alarm(id: Alarm.id("transit_overdue/\(t.seal)/\(t.origin.last)"), kind: .transitOverdue, gateway: "", ports: ports,
                                 utc: t.origin.last.addingClamped(expected), raisedUTC: raisedUTC,
                                 detail: "seal \(t.seal) left \(t.origin.port) \(t.elapsed / 60_000_000_000) min ago"
                                     + (t.destination.map { " and reached \($0.port) late" } ?? " and has not reached a port")
                                     + " (expected within \(expected / 60_000_000_000) min)"))
            }
        }
        return out
    }

    /// Gateways heard from once but silent for longer than ``silentAfter`` at `now`.
    public func silentGateways(_ summaries: [GatewaySummary], now: Int64, raisedUTC: Int64) -> [Alarm] {
        summaries.filter { now.subtractingClamped($0.lastSeenUTC) > silentAfter }.map { g in
            Alarm(id: Alarm.id("gateway_silent/\(g.id)/\(g.lastSeenUTC)"), kind: .gatewaySilent, gateway: g.id, ports: ports(ofGateway: g.id),
                  utc: g.lastSeenUTC.addingClamped(silentAfter), raisedUTC: raisedUTC,
                  detail: "gateway \(g.id) has sent nothing for more than \(silentAfter / 60_000_000_000) min")
        }
    }

    /// The status flags that call for an alarm: tampered, or opened without an approved opening.
    static func alarming(_ status: UInt8) -> UInt8 {
        let s = SealStatus(rawValue: status)
        var out: UInt8 = s.contains(.tampered) ? SealStatus.tampered.rawValue : 0
        if s.contains(.opened) && !s.contains(.approvedOpen) { out |= SealStatus.opened.rawValue }
        return out
    }
}
