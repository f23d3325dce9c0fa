import HTTPTypes
import Hummingbird
import LaneAnalytics
import LaneCore
import LaneWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Prometheus

/// The request context: Hummingbird's core storage plus the connection, which carries the TLS
/// session (and with it a client certificate) when there is one.
public struct CollectorContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

public struct CollectorSettings: Sendable {
    /// Larger bodies are refused before they are read to the end.
    public var maxBodyBytes = 4 << 20
    public var limits = DecodingLimits()
    /// A query page holds at most this many events (`limit` is 1 to this).
    public var maxEventsPerQuery = 10_000
    /// A query stops scanning after this many stored events, matching or not, and answers with
    /// what it found and the cursor to go on from: the work one request may cause is bounded.
    public var maxEventsScannedPerQuery = 200_000
    /// Live streams (the dashboard's server-sent events) open at once at most: each holds a
    /// connection and costs an estimate per update.
    public var maxLiveStreams = 256
    /// A gateway that sends nothing for longer than this raises a `gateway_silent` alarm.
    public var gatewaySilentAfter: Duration = .seconds(600)
    /// Where alarms are POSTed, and how often they are tried.
    public var webhooks: [Webhook] = []
    public var webhookTiming = WebhookTiming()

    public init() {}
}

/// The collector's HTTP API: it receives batches, verifies who sent them and what they hold,
/// stores them exactly once, and answers queries.
public struct Collector: Sendable {
    public let store: any EventStore
    /// Whom batches are accepted from.
    public let gatewayDirectory: GatewayDirectory
    public let metrics: CollectorMetrics
    public let readAccess: ReadAccess
    public let settings: CollectorSettings
    /// Border delay for the ports of the port file (none without one).
    public let analytics: PortAnalytics
    /// Sealed shipments between the ports of the port file.
    public let transits: TransitTracker
    /// Alarms for responders: raised as batches arrive and by ``AlarmWatch``'s sweeps.
    public let alarms: AlarmDesk
    /// Sends alarms to the configured webhooks: a service to run beside the server.
    public let webhooks: WebhookSender
    /// Wakes the dashboard's live streams when a port's gateway delivers.
    public let updates = PortUpdates()
    let logger: Logger

    public init(store: any EventStore, gateways: GatewayDirectory, readAccess: ReadAccess, ports: [PortLayout] = [],
                transitRoutes: [TransitRoute] = [], metrics: CollectorMetrics = CollectorMetrics(), settings: CollectorSettings = CollectorSettings(),
                logger: Logger = Logger(label: "lanegate.collector")) {
        self.store = store
        analytics = PortAnalytics(ports: ports, store: store)
        transits = TransitTracker(ports: ports, routes: transitRoutes)
        alarms = AlarmDesk(store: store, rules: AlarmRules(ports: ports, tracker: transits, silentAfter: settings.gatewaySilentAfter.nanoseconds),
                           webhooks: settings.webhooks, registry: metrics.registry, logger: logger)
        webhooks = WebhookSender(store: store, desk: alarms, webhooks: settings.webhooks, timing: settings.webhookTiming,
                                 registry: metrics.registry, logger: logger)
        gatewayDirectory = gateways
        self.readAccess = readAccess
        self.logger = logger
        self.metrics = metrics
        self.settings = settings
    }

    /// A collector that accepts the gateways of a token file.
    public init(store: any EventStore, tokens: GatewayTokens, readAccess: ReadAccess, ports: [PortLayout] = [],
                metrics: CollectorMetrics = CollectorMetrics(), settings: CollectorSettings = CollectorSettings(),
                logger: Logger = Logger(label: "lanegate.collector")) {
        self.init(store: store, gateways: GatewayDirectory(fixed: tokens), readAccess: readAccess, ports: ports, metrics: metrics,
                  settings: settings, logger: logger)
    }

    public func router() -> Router<CollectorContext> {
        let router = Router(context: CollectorContext.self)
        router.post("/v1/batches") { request, context in try await ingest(request, context: context) }
        router.get("/v1/events") { request, context in
            try await reading(request, context) { reader in try await events(request, reader) }
        }
        router.get("/v1/gateways") { request, context in
            try await reading(request, context) { reader in try await gateways(reader) }
        }
        addBorderDelayRoutes(to: router)
        addTransitRoutes(to: router)
        addAlarmRoutes(to: router)
        addWebhookRoutes(to: router)
        addDashboardRoutes(to: router)
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
        }
        router.get("/healthz") { _, _ in
            let reason = await store.unavailability()
            return Response(status: reason == nil ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: reason.map { "store unavailable: \($0)\n" } ?? "ok\n")))
        }
        return router
    }

    // MARK: who sends

    enum Identity { case gateway(String), unknownCertificate(String), none }

    /// With a client certificate the gateway is its certificate's common name (TLS has already
    /// checked it against the client CA); otherwise its bearer token says who it is.
    func identify(_ request: Request, context: CollectorContext) async -> Identity {
        if let certificate = try? await context.channel.nioSSL_peerCertificate().get() {
            guard let name = certificate.subjectName.first(where: { $0.type == .commonName })?.value else { return .none }
            return await gatewayDirectory.isKnown(name) ? .gateway(name) : .unknownCertificate(name)
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              let gateway = await gatewayDirectory.gateway(forToken: String(header.dropFirst("Bearer ".count))) else { return .none }
        return .gateway(gateway)
    }

    /// 503 with a hint when to try again: the gateway keeps the batch spooled meanwhile.
    func unavailable(_ error: StoreUnavailableError) -> Response {
        var response = refuse(.serviceUnavailable, "store", "the collector's store is unavailable: \(error.description)")
        response.headers[.retryAfter] = "5"
        return response
    }

    func refuse(_ status: HTTPResponse.Status, _ label: String, _ reason: String) -> Response {
        metrics.rejected(status: status.code, reason: label)
        return json(status, "{\"error\":\(jsonQuoted(reason))}")
    }

    // MARK: queries

    /// Runs a read for a holder of a read token (or anyone, with public read, who sees
    /// everything), naming the reader in the access log. `answer` gets the reader, whose scope
    /// decides what it may see.
    func reading(_ request: Request, _ context: CollectorContext,
                 _ answer: (Reader) async throws -> Response) async throws -> Response {
        let reader: Reader
        switch readAccess {
        case .publicRead: reader = Reader(name: "public", scope: .admin)
        case .tokens(let readers):
            guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
                  let known = readers.reader(for: String(header.dropFirst("Bearer ".count))) else {
                logger.notice("read refused: \(request.method) \(request.uri.path) from \(context.channel.remoteAddress?.description ?? "?")")
                return refuse(.unauthorized, "read-auth", "a read token is required: Authorization: Bearer <token>")
            }
            reader = known
        }
        let response: Response
        let started = ContinuousClock.now
        do { response = try await answer(reader) } catch let error as StoreUnavailableError { return unavailable(error) }
        metrics.storeReads.record(ContinuousClock.now - started)
        logger.info("read by \(reader.name): \(request.method) \(request.uri) \(response.status.code)")
        return response
    }

    /// The gateways whose events and state `reader` may see; nil: all of them.
    func visibleGateways(_ reader: Reader) -> Set<String>? {
        switch reader.scope {
        case .admin: nil
        case .public: []
        case .ports(let granted): Set(analytics.ports.filter { granted.contains($0.id) }.flatMap(\.gateways))
        }
    }

    func mayRead(port: String, _ reader: Reader) -> Bool {
        switch reader.scope {
        case .admin: true
        case .public: false
        case .ports(let granted): granted.contains(port)
        }
    }

    func forbidden(_ reader: Reader, _ what: String) -> Response {
        refuse(.forbidden, "scope", "reader \"\(reader.name)\" may not read \(what)")
    }

    func events(_ request: Request, _ reader: Reader) async throws -> Response {
        let p = request.uri.queryParameters
        var q = EventQuery()
        q.gateway = p["gateway"].map(String.init)
        if let visible = visibleGateways(reader), !(q.gateway.map(visible.contains) ?? false) {
            return forbidden(reader, q.gateway.map { "the events of gateway \"\($0)\"" }
                             ?? "events without naming a gateway of its ports (gateway=…)")
        }
        q.lane = p["lane"].map(String.init)
        q.place = (p["read_point"] ?? p["loop"] ?? p["device"]).map(String.init)
        q.type = p["type"].map(String.init)
        q.fromUTC = p["from"].flatMap { Int64($0) }
        q.toUTC = p["to"].flatMap { Int64($0) }
        q.after = p["after"].flatMap { Int64($0) } ?? 0
        for key: Substring in ["from", "to", "after", "limit"] where p[key] != nil && Int64(p[key]!) == nil {
            return refuse(.badRequest, "query", "\(key) must be an integer (UTC nanoseconds for from/to)")
        }
        let limit = p["limit"].flatMap { Int($0) } ?? 1000
        guard limit >= 1 else {
            return refuse(.badRequest, "query", "limit must be 1 to \(settings.maxEventsPerQuery), got \(limit)")
        }
        q.limit = min(limit, settings.maxEventsPerQuery)
        q.maxScanned = settings.maxEventsScannedPerQuery
        let (found, resume) = try await store.events(q)
        var out = "{\"events\":["
        for (i, e) in found.enumerated() {
            if i > 0 { out += "," }
            out += "{\"id\":\(e.id),\"gateway\":\(jsonQuoted(e.gateway)),\"sequence\":\(e.sequence),\"utc_ns\":\(e.utcNanoseconds),"
            out += "\"received_utc_ns\":\(e.receivedUTCNanoseconds),"
            out += e.json.dropFirst()
        }
        out += "],\"next_after\":\(resume)}\n"
        return json(.ok, out)
    }

    func gateways(_ reader: Reader) async throws -> Response {
        guard reader.scope != .public else { return forbidden(reader, "gateways") }
        let visible = visibleGateways(reader)
        var out = "["
        let all = try await store.gateways()
        for (i, g) in all.filter({ visible?.contains($0.id) ?? true }).enumerated() {
            if i > 0 { out += "," }
            let devices = g.devices.sorted { $0.key < $1.key }.map { "\(jsonQuoted($0.key)):\(jsonQuoted($0.value))" }
            out += "{\"id\":\(jsonQuoted(g.id)),\"last_seen_utc_ns\":\(g.lastSeenUTC),\"last_sequence\":\(g.lastSequence),"
            out += "\"batches\":\(g.batches),\"events\":\(g.events),\"gap_events\":\(g.gapEvents),\"lost_reported\":\(g.lostReported),"
            out += "\"backlog_reported\":\(g.backlogReported.map(String.init) ?? "null"),"
            out += "\"clock\":{\"sync\":\(jsonQuoted(g.clockSync)),\"max_error_us\":\(g.clockMaxErrorMicros)},"
            out += "\"devices\":{\(devices.joined(separator: ","))}}"
        }
        return json(.ok, out + "]\n")
    }

    func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

extension HTTPField.Name {
    /// Batches waiting in the gateway's spool when it sent this one.
    public static let lanegateBacklog = HTTPField.Name("Lanegate-Backlog")!
    /// On a batch's answer: the zstd dictionaries this collector reads (see `DictionaryUse`).
    public static let lanegateZstdDictionaries = HTTPField.Name(ZstdDictionary.announcementHeader)!
}
