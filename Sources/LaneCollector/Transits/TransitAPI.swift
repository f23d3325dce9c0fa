import Hummingbird
import LaneAnalytics
import LaneCore

/// `GET /v1/transits`: sealed shipments followed from port to port, with what happened to the
/// seal between them. An agency sees the transits that start or end at its ports, so a shipment
/// between two agencies' ports is seen by both; the public feed's readers see none.
extension Collector {
    func addTransitRoutes(to router: Router<CollectorContext>) {
        router.get("/v1/transits") { request, context in
            try await reading(request, context) { reader in try await listTransits(request, reader) }
        }
    }

    private func listTransits(_ request: Request, _ reader: Reader) async throws -> Response {
        guard reader.scope != .public else { return forbidden(reader, "transits") }
        let p = request.uri.queryParameters
        let range: (from: Int64, to: Int64)
        switch timeRange(request, max: Self.maxStatisticsRange) { case .success(let r): range = r; case .failure(let e): return badQuery(e.message) }
        var seal: String?
        if let text = p["seal"] {
            guard let id = SealID(text) else { return badQuery("seal must be MMMM-TTTTTTTT (manufacturer and tag id in hex)") }
            seal = id.description
        }
        let port = p["port"].map(String.init)
        if let port {
            guard analytics.port(port) != nil else { return badQuery("no port \"\(port)\" in the port file; GET /v1/ports lists them") }
            guard mayRead(port: port, reader) else { return forbidden(reader, "port \"\(port)\"") }
        }
        let state = p["state"].map(String.init)
        if let state, !["under_way", "arrived", "overdue", "tampered", "opened"].contains(state) {
            return badQuery("state must be under_way, arrived, overdue, tampered or opened")
        }

        // Readings from a horizon before `from` (where a seal's earlier port is) to one after
        // `to` (where the shipments that left in range arrive); under way is judged at the end.
        let horizon = transits.lookback
        let end = min(range.to.addingClamped(horizon), ClockAnchor.now().utcNanoseconds)
        let readings = try await store.sealReadings(fromUTC: range.from.subtractingClamped(horizon), toUTC: max(end, range.to), seal: seal)
        let (all, unplaced) = transits.transits(readings, now: max(end, range.to))
        let shown = all.filter { t in
            guard t.origin.last >= range.from && t.origin.last < range.to else { return false }
            let ports = [t.origin.port] + (t.destination.map { [$0.port] } ?? [])
            if let port, !ports.contains(port) { return false }
            guard ports.contains(where: { mayRead(port: $0, reader) }) else { return false }
            switch state {
            case "under_way": return t.destination == nil
            case "arrived": return t.destination != nil
            case "overdue": return t.overdue
            case "tampered": return t.tampered
            case "opened": return t.opened
            default: return true
            }
        }
        return json(.ok, TransitJSON.answer(shown, from: range.from, to: range.to, unplaced: unplaced))
    }
}

/// Transits as JSON: times in UTC nanoseconds, durations in seconds, statuses by name.
enum TransitJSON {
    static func answer(_ transits: [Transit], from: Int64, to: Int64, unplaced: Int) -> String {
        var out = "{\"from\":\(from),\"to\":\(to),\"unplaced_readings\":\(unplaced),\"transits\":["
        out += transits.map { t in
            "{\"seal\":\(jsonQuoted(t.seal)),\"state\":\"\(t.destination == nil ? "under_way" : "arrived")\","
                + "\"origin\":\(call(t.origin)),\"destination\":\(t.destination.map(call) ?? "null"),"
                + "\"elapsed_s\":\(t.elapsed / 1_000_000_000),\"expected_s\":\(t.expected.map { "\($0 / 1_000_000_000)" } ?? "null"),"
                + "\"overdue\":\(t.overdue),\"opened\":\(t.opened),\"tampered\":\(t.tampered),\"events_between\":\(t.eventsBetween)}"
        }.joined(separator: ",")
        return out + "]}\n"
    }

    private static func call(_ c: PortCall) -> String {
        "{\"port\":\(jsonQuoted(c.port)),\"first_utc_ns\":\(c.first),\"last_utc_ns\":\(c.last),"
            + "\"arriving_status\":\(status(c.arrivingStatus)),\"leaving_status\":\(status(c.leavingStatus)),"
            + "\"arriving_events\":\(c.arrivingCount),\"leaving_events\":\(c.leavingCount),\"readings\":\(c.readings)}"
    }

    private static func status(_ raw: UInt8) -> String {
        "[" + SealStatus(rawValue: raw).names.map(jsonQuoted).joined(separator: ",") + "]"
    }
}
