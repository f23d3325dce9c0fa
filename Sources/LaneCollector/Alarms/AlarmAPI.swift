import HTTPTypes
import Hummingbird
import LaneCore
import NIOCore
import ServiceLifecycle

/// Alarms for responders: a list, a stream of server-sent events, and acknowledgement. An
/// agency sees the alarms of its ports; an alarm of a gateway on no port's route is for admins.
extension Collector {
    /// A stream looks this far back past its cursor, so that an alarm another collector committed
    /// a little late is still sent (once: ids already sent are remembered that long).
    static let alarmStreamOverlap: Int64 = 5_000_000_000

    func addAlarmRoutes(to router: Router<CollectorContext>) {
        router.get("/v1/alarms") { request, context in
            try await reading(request, context) { reader in try await alarmList(request, reader) }
        }
        router.get("/v1/alarms/stream") { request, context in
            try await reading(request, context) { reader in alarmStream(request, reader) }
        }
        router.post("/v1/alarms/:id/ack") { request, context in
            try await reading(request, context) { reader in try await acknowledge(context.parameters.get("id") ?? "", reader) }
        }
    }

    func mayRead(_ alarm: Alarm, _ reader: Reader) -> Bool {
        switch reader.scope {
        case .admin: true
        case .public: false
        case .ports(let granted): alarm.ports.contains { granted.contains($0) }
        }
    }

    private func alarmList(_ request: Request, _ reader: Reader) async throws -> Response {
        guard reader.scope != .public else { return forbidden(reader, "alarms") }
        let p = request.uri.queryParameters
        let range: (from: Int64, to: Int64)
        switch timeRange(request, max: Self.maxStatisticsRange) { case .success(let r): range = r; case .failure(let e): return badQuery(e.message) }
        let state = p["state"].map(String.init)
        guard state == nil || state == "open" || state == "acknowledged" else { return badQuery("state must be open or acknowledged") }
        let kind = p["kind"].map(String.init)
        if let kind, Alarm.Kind(rawValue: kind) == nil {
            return badQuery("kind must be one of \(Alarm.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let limit = Int(p["limit"] ?? "1000"), (1...10_000).contains(limit) else { return badQuery("limit must be 1 to 10000") }
        // Filters apply after the read, so read up to the largest page; the answer says when it was cut.
        let read = try await store.alarms(raisedFrom: range.from, to: range.to, limit: 10_000)
        let shown = read.filter { a in
            mayRead(a, reader) && (kind == nil || a.kind.rawValue == kind)
                && (state == nil || (state == "open") == (a.acknowledgedBy == nil))
        }.prefix(limit)
        let more = read.count == 10_000 || shown.count == limit
        return json(.ok, "{\"from\":\(range.from),\"to\":\(range.to),\"more\":\(more),\"alarms\":[\(shown.map(\.json).joined(separator: ","))]}\n")
    }

    private func acknowledge(_ id: String, _ reader: Reader) async throws -> Response {
        guard reader.scope != .public else { return forbidden(reader, "alarms") }
        guard let alarm = try await store.alarm(id: id), mayRead(alarm, reader) else {
            // An alarm the reader may not see is answered like one that does not exist.
            return refuse(.notFound, "alarm", "no alarm \"\(id)\"")
        }
        guard let acknowledged = try await store.acknowledge(alarm: alarm.id, by: reader.name, atUTC: ClockAnchor.now().utcNanoseconds)
        else { return refuse(.notFound, "alarm", "no alarm \"\(id)\"") }
        return json(.ok, acknowledged.json + "\n")
    }

    /// Server-sent events: each alarm the reader may see, as it is raised (`event: alarm`, `id:`
    /// its raise time). A client that reconnects with `Last-Event-ID` gets what it missed.
    /// Alarms raised here wake the stream at once; the store is looked at every 2 s besides, for
    /// those raised by another collector on the same database.
    private func alarmStream(_ request: Request, _ reader: Reader) -> Response {
        guard reader.scope != .public else { return forbidden(reader, "alarms") }
        guard alarms.streams < settings.maxLiveStreams else {
            return refuse(.serviceUnavailable, "streams", "\(settings.maxLiveStreams) alarm streams are open already; try again later")
        }
        let now = ClockAnchor.now().utcNanoseconds
        let resume = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int64($0) }
        let body = ResponseBody { [self] writer in
            let (id, wakes) = alarms.subscribe()
            defer { alarms.unsubscribe(id) }
            let poll = Task { [alarms] in while (try? await Task.sleep(for: .seconds(2))) != nil { alarms.poke(id) } }
            defer { poll.cancel() }
            // Nothing raised before `floor` is sent: the client has it, or connected after it.
            let floor = resume.map { $0 + 1 } ?? now
            var cursor = floor, sent: [String: Int64] = [:], quiet = 0
            try await writer.write(ByteBuffer(string: ": alarms for \(reader.name)\n\n"))
            for await _ in wakes.cancelOnGracefulShutdown() {
                let from = max(floor, cursor.subtractingClamped(Self.alarmStreamOverlap))
                var text = ""
                for a in try await store.alarms(raisedFrom: from, to: .max, limit: 1000) where sent[a.id] == nil {
                    sent[a.id] = a.raisedUTC
                    cursor = max(cursor, a.raisedUTC)
                    guard mayRead(a, reader) else { continue }
                    text += "id: \(a.raisedUTC)\nevent: alarm\ndata: \(a.json)\n\n"
                }
                sent = sent.filter { $0.value >= cursor.subtractingClamped(Self.alarmStreamOverlap) }
                quiet = text.isEmpty ? quiet + 1 : 0
                if quiet >= 8 { text = ": still here\n\n"; quiet = 0 }
                if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: body)
    }
}
