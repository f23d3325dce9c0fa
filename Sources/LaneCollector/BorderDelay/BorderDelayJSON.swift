import LaneAnalytics
import LaneCore

/// The border-delay answers as JSON and CSV. Durations are in seconds, times in UTC nanoseconds
/// like the rest of the API.
enum BorderDelayJSON {
    /// A gateway of a route, as the live estimate's reader needs to judge it.
    struct GatewayHealth {
        var id: String
        var state: String
        var lastSeen: Int64?
        var backlog: Int?
        var clockSync = "unknown"
        var clockMaxErrorMicros: Int64 = 0
        var gapEvents = 0
        var lost: UInt64 = 0
    }

    /// A gateway not heard from for this long is silent: its trips may be missing.
    static let silentAfter: Int64 = 120_000_000_000

    static func routeHealth(_ port: PortLayout, _ summaries: [GatewaySummary], now: Int64) -> [GatewayHealth] {
        port.gateways.map { id in
            guard let g = summaries.first(where: { $0.id == id }) else { return GatewayHealth(id: id, state: "unknown") }
            let state = now - g.lastSeenUTC > silentAfter ? "silent" : (g.backlogReported ?? 0) > 0 ? "behind" : "ok"
            return GatewayHealth(id: id, state: state, lastSeen: g.lastSeenUTC, backlog: g.backlogReported, clockSync: g.clockSync,
                                 clockMaxErrorMicros: g.clockMaxErrorMicros, gapEvents: g.gapEvents, lost: g.lostReported)
        }
    }

    static func waitTimes(_ port: PortLayout, _ estimates: [LiveEstimate], at: Int64, lanesOpen: [String: Int], lanes: [String: Int],
                          health: [GatewayHealth]) -> String {
        let stale = health.contains { $0.state != "ok" }
        var out = "{\"port\":\(jsonQuoted(port.id)),\"name\":\(jsonQuoted(port.name)),\"direction\":\(jsonQuoted(port.direction)),"
        out += "\"at_utc_ns\":\(at),\"stale\":\(stale),\"gateways\":["
        out += health.map { h in
            "{\"id\":\(jsonQuoted(h.id)),\"state\":\"\(h.state)\",\"last_seen_utc_ns\":\(number(h.lastSeen)),\"backlog\":\(number(h.backlog)),"
                + "\"clock\":{\"sync\":\(jsonQuoted(h.clockSync)),\"max_error_us\":\(h.clockMaxErrorMicros)},"
                + "\"gap_events\":\(h.gapEvents),\"lost_reported\":\(h.lost)}"
        }.joined(separator: ",")
        out += "],\"lane_types\":["
        out += estimates.map { e in
            "{\"lane_type\":\(jsonQuoted(e.laneType)),\"wait_s\":\(seconds(e.wait)),\"crossing_s\":\(seconds(e.crossing)),"
                + "\"wait_samples\":\(e.waitSamples),\"crossing_samples\":\(e.crossingSamples),"
                + "\"newest_utc_ns\":\(number(e.newest)),\"age_s\":\(seconds(e.newest.map { Double(at - $0) / 1e9 })),"
                + "\"confidence\":\"\(e.confidence.rawValue)\",\"queue_bound_s\":\(seconds(e.queueBound)),\"rising\":\(e.rising),"
                + "\"lanes_open\":\(lanesOpen[e.laneType] ?? 0),\"lanes\":\(lanes[e.laneType] ?? 0)}"
        }.joined(separator: ",")
        return out + "]}\n"
    }

    static func trips(_ port: PortLayout, _ trips: [FilteredTrip], _ report: TripMatcher.Report, from: Int64, to: Int64) -> String {
        var out = "{\"port\":\(jsonQuoted(port.id)),\"from\":\(from),\"to\":\(to),"
        out += "\"matching\":{\"visits\":\(report.visits),\"foreign\":\(report.foreign),\"unmatched\":\(report.unmatched),\"cross_reads\":\(report.crossReads)},"
        out += "\"trips\":["
        out += trips.map { t in
            let trip = t.trip
            return "{\"tag\":\(jsonQuoted(trip.tag)),\"lane_type\":\(jsonQuoted(trip.laneType)),\"lane\":\(text(trip.lane)),"
                + "\"queue_end_utc_ns\":\(trip.queueEnd),\"booth_utc_ns\":\(number(trip.booth)),\"exit_utc_ns\":\(number(trip.exit)),"
                + "\"wait_s\":\(seconds(trip.duration(.wait))),\"crossing_s\":\(seconds(trip.duration(.crossing))),"
                + "\"wait_rejected\":\(text(t.waitRejection?.rawValue)),\"crossing_rejected\":\(text(t.crossingRejection?.rawValue)),"
                + "\"note\":\(text(trip.note))}"
        }.joined(separator: ",")
        return out + "]}\n"
    }

    static func tripsCSV(_ trips: [FilteredTrip]) -> String {
        var out = "tag,lane_type,lane,queue_end_utc_ns,booth_utc_ns,exit_utc_ns,wait_s,crossing_s,wait_rejected,crossing_rejected,note\n"
        for t in trips {
            let trip = t.trip
            let wait: String = trip.duration(.wait).map { "\($0 / 1_000_000_000)" } ?? ""
            let crossing: String = trip.duration(.crossing).map { "\($0 / 1_000_000_000)" } ?? ""
            let booth: String = trip.booth.map { "\($0)" } ?? ""
            let exit: String = trip.exit.map { "\($0)" } ?? ""
            let fields: [String] = [trip.tag, trip.laneType, trip.lane ?? "", "\(trip.queueEnd)", booth, exit, wait, crossing,
                                    t.waitRejection?.rawValue ?? "", t.crossingRejection?.rawValue ?? "", trip.note ?? ""]
            out += fields.map(csvField).joined(separator: ",") + "\n"
        }
        return out
    }

    static func statistics(_ port: PortLayout, _ measure: Measure, width: Int64, from: Int64, to: Int64,
                           bins: [DelayBin], measures: [DelayMeasures]) -> String {
        var out = "{\"port\":\(jsonQuoted(port.id)),\"measure\":\"\(measure.rawValue)\",\"bin_s\":\(width / 1_000_000_000),"
        out += "\"from\":\(from),\"to\":\(to),\"bins\":["
        out += bins.map { b in
            "{\"lane_type\":\(jsonQuoted(b.laneType)),\"start_utc_ns\":\(b.start),\"count\":\(b.count),\"mean_s\":\(seconds(b.mean)),"
                + "\"median_s\":\(seconds(b.median)),\"p85_s\":\(seconds(b.p85)),\"p95_s\":\(seconds(b.p95)),"
                + "\"min_s\":\(seconds(b.min)),\"max_s\":\(seconds(b.max))}"
        }.joined(separator: ",")
        out += "],\"measures\":["
        out += measures.map { m in
            "{\"lane_type\":\(jsonQuoted(m.laneType)),\"count\":\(m.count),\"free_flow_s\":\(seconds(m.freeFlow)),"
                + "\"mean_s\":\(seconds(m.mean)),\"p95_s\":\(seconds(m.p95)),\"planning_time_index\":\(ratio(m.planningTimeIndex)),"
                + "\"buffer_index\":\(ratio(m.bufferIndex)),\"congested_minutes\":\(m.congestedMinutes)}"
        }.joined(separator: ",")
        return out + "]}\n"
    }

    // MARK: values

    static func seconds(_ s: Double?) -> String {
        guard let s, s.isFinite else { return "null" }
        return "\(Int64(s.rounded()))"
    }

    static func seconds(_ ns: Int64?) -> String { ns.map { "\($0 / 1_000_000_000)" } ?? "null" }

    static func ratio(_ r: Double) -> String {
        guard r.isFinite else { return "null" }
        return "\(Double(Int64((r * 1000).rounded())) / 1000)"
    }

    static func number(_ n: (some BinaryInteger)?) -> String { n.map { "\($0)" } ?? "null" }
    static func text(_ s: String?) -> String { s.map(jsonQuoted) ?? "null" }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
        return "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }
}
