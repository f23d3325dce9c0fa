import HTTPTypes
import Hummingbird
import LaneAnalytics
import LaneCore
import LaneWire
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The border-delay API: live wait and crossing times, archived trips and binned statistics,
/// per port. Read access is the same as for events.
extension Collector {
    /// The longest range a request may ask for: trips come whole in one answer, and statistics
    /// decode every stored visit of the range, so a request's work stays bounded.
    static let maxTripRange: Int64 = 2 * 86_400 * 1_000_000_000
    static let maxStatisticsRange: Int64 = 7 * 86_400 * 1_000_000_000

    func addBorderDelayRoutes(to router: Router<CollectorContext>) {
        router.get("/v1/ports") { request, context in
            try await reading(request, context) { reader in portList(reader) }
        }
        router.get("/v1/ports/:port/wait-times") { request, context in
            try await reading(request, context) { reader in try await granted(reader, context) { port in try await waitTimes(request, port) } }
        }
        router.get("/v1/ports/:port/trips") { request, context in
            try await reading(request, context) { reader in try await granted(reader, context) { port in try await trips(request, port) } }
        }
        router.get("/v1/ports/:port/stats") { request, context in
            try await reading(request, context) { reader in try await granted(reader, context) { port in try await statistics(request, port) } }
        }
        router.get("/v1/ports/:port/live") { request, context in
            try await reading(request, context) { reader in try await granted(reader, context) { port in liveStream(port) } }
        }
        router.get("/v1/feed/bwt.xml") { request, context in
            try await reading(request, context) { _ in try await feed(xml: true) }
        }
        router.get("/v1/feed/bwt.json") { request, context in
            try await reading(request, context) { _ in try await feed(xml: false) }
        }
    }

    /// Server-sent events: the port's wait-times answer now, again at most once a second while
    /// its gateways deliver, and every 15 s besides. Ends when the client goes or the collector
    /// shuts down.
    private func liveStream(_ port: PortLayout) -> Response {
        guard updates.count < settings.maxLiveStreams else {
            return refuse(.serviceUnavailable, "streams", "\(settings.maxLiveStreams) live streams are open already; try again later")
        }
        let body = ResponseBody { [self] writer in
            // Subscribed once the body is being written, so a client gone before then leaves nothing behind.
            let (id, wakes) = updates.subscribe(gateways: Set(port.gateways))
            defer { updates.unsubscribe(id) }
            for await _ in wakes.cancelOnGracefulShutdown() {
                let answer = try await updates.liveAnswer(port: port.id) { try await liveAnswer(port, at: ClockAnchor.now().utcNanoseconds) }
                try await writer.write(ByteBuffer(string: "event: wait-times\ndata: \(answer.dropLast())\n\n"))
                // Batches arriving meanwhile become one wake-up.
                try await Task.sleep(for: .seconds(1))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: body)
    }

    private func feed(xml: Bool) async throws -> Response {
        let now = ClockAnchor.now().utcNanoseconds
        var ports: [BorderWaitFeed.Port] = []
        for layout in analytics.ports {
            let lanes = try await analytics.lanesOpen(layout, at: now)
            ports.append(BorderWaitFeed.Port(layout: layout, estimates: try await analytics.live(layout, at: now),
                                             lanesOpen: lanes.open, lanes: lanes.total))
        }
        let feed = BorderWaitFeed(ports: ports, at: now)
        return Response(status: .ok, headers: [.contentType: xml ? "application/xml; charset=utf-8" : "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: xml ? feed.xml : feed.json)))
    }

    /// Runs `answer` for the port of the path when `reader` may read it (an unknown port is a
    /// 404 for every reader).
    private func granted(_ reader: Reader, _ context: CollectorContext,
                         _ answer: (PortLayout) async throws -> Response) async throws -> Response {
        guard let port = context.parameters.get("port").flatMap({ analytics.port($0) }) else { return unknownPort(context) }
        guard mayRead(port: port.id, reader) else { return forbidden(reader, "port \"\(port.id)\"") }
        return try await answer(port)
    }

    private func portList(_ reader: Reader) -> Response {
        guard reader.scope != .public else { return forbidden(reader, "ports (the public feed is /v1/feed/bwt.xml)") }
        let ports = analytics.ports.filter { mayRead(port: $0.id, reader) }.map { p in
            "{\"id\":\(jsonQuoted(p.id)),\"name\":\(jsonQuoted(p.name)),\"number\":\(jsonQuoted(p.number)),"
                + "\"crossing\":\(jsonQuoted(p.crossing)),\"direction\":\(jsonQuoted(p.direction)),"
                + "\"lane_types\":[\(p.laneTypes.map(jsonQuoted).joined(separator: ","))]}"
        }
        return json(.ok, "[\(ports.joined(separator: ","))]\n")
    }

    private func waitTimes(_ request: Request, _ port: PortLayout) async throws -> Response {
        let now = ClockAnchor.now().utcNanoseconds
        guard let at = try? instant(request, "at", default: now) else { return badQuery("at must be an integer (UTC nanoseconds)") }
        return json(.ok, try await liveAnswer(port, at: at))
    }

    /// The live figures of `port` at `at`, with the lanes open and the route's gateway health now.
    private func liveAnswer(_ port: PortLayout, at: Int64) async throws -> String {
        let now = ClockAnchor.now().utcNanoseconds
        let estimates = try await analytics.live(port, at: at)
        let lanes = try await analytics.lanesOpen(port, at: at)
        let gateways = try await store.gateways()
        return BorderDelayJSON.waitTimes(port, estimates, at: at, lanesOpen: lanes.open, lanes: lanes.total,
                                         health: BorderDelayJSON.routeHealth(port, gateways, now: now))
    }

    private func trips(_ request: Request, _ port: PortLayout) async throws -> Response {
        let range: (from: Int64, to: Int64)
        switch timeRange(request, max: Self.maxTripRange) { case .success(let r): range = r; case .failure(let e): return badQuery(e.message) }
        let (trips, report) = try await analytics.trips(port, from: range.from, to: range.to)
        let csv = request.uri.queryParameters["format"] == "csv"
            || (request.headers[.accept]?.contains("text/csv") ?? false)
        if csv {
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: BorderDelayJSON.tripsCSV(trips))))
        }
        return json(.ok, BorderDelayJSON.trips(port, trips, report, from: range.from, to: range.to))
    }

    private func statistics(_ request: Request, _ port: PortLayout) async throws -> Response {
        let p = request.uri.queryParameters
        let widths: [Substring: Int64] = ["5m": 300, "15m": 900, "1h": 3600]
        guard let width = widths[p["bin"] ?? "15m"].map({ $0 * 1_000_000_000 }) else {
            return badQuery("bin must be 5m, 15m or 1h")
        }
        guard let measure = Measure(rawValue: String(p["measure"] ?? "wait")) else { return badQuery("measure must be wait or crossing") }
        let range: (from: Int64, to: Int64)
        switch timeRange(request, max: Self.maxStatisticsRange) { case .success(let r): range = r; case .failure(let e): return badQuery(e.message) }
        let (bins, measures) = try await analytics.statistics(port, measure, width: width, from: range.from, to: range.to)
        return json(.ok, BorderDelayJSON.statistics(port, measure, width: width, from: range.from, to: range.to, bins: bins, measures: measures))
    }

    // MARK: parameters

    private func unknownPort(_ context: CollectorContext) -> Response {
        json(.notFound, "{\"error\":\(jsonQuoted("no port \"\(context.parameters.get("port") ?? "")\" in the port file; GET /v1/ports lists them"))}\n")
    }

    func badQuery(_ reason: String) -> Response { refuse(.badRequest, "query", reason) }

    struct QueryError: Error { var message: String }

    func instant(_ request: Request, _ key: String, default value: Int64) throws(QueryError) -> Int64 {
        guard let text = request.uri.queryParameters[Substring(key)] else { return value }
        guard let n = Int64(text), DecodingLimits.utcRange.contains(n) else {
            throw QueryError(message: "\(key) must be an integer (UTC nanoseconds)")
        }
        return n
    }

    /// `from` and `to` (UTC nanoseconds; default the last 24 hours), `from` before `to`, at
    /// most `max` apart.
    func timeRange(_ request: Request, max: Int64) -> Result<(from: Int64, to: Int64), QueryError> {
        let now = ClockAnchor.now().utcNanoseconds
        do throws(QueryError) {
            let to = try instant(request, "to", default: now)
            let from = try instant(request, "from", default: to - 86_400_000_000_000)
            guard from < to else { return .failure(QueryError(message: "from must be before to")) }
            guard to - from <= max else {
                return .failure(QueryError(message: "from and to may be at most \(max / 86_400_000_000_000) days apart"))
            }
            return .success((from, to))
        } catch {
            return .failure(error)
        }
    }
}
