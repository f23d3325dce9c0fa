import HTTPTypes
import Hummingbird
import HummingbirdCore
import LaneHTTPGuard
import LaneCore
import LaneDevices
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The booth LAN's HTTP endpoint for licence-plate cameras: `POST /v1/plates/{camera}`.
///
/// A transport like the others: it listens only on the configured address, every camera proves
/// itself with its own token (`Authorization: Bearer …`, or `?token=…` for cameras that can only
/// be given a URL) before its body is read, and a body is read only up to the limit. Whatever is
/// refused gets a 4xx and a count, by camera and kind; an authenticated camera's bad push also
/// puts the camera in `error` on the device board, which travels upstream. Reads go to the
/// pipeline through a bounded ``PlateInbox``; a full inbox is a 503 and a counted drop.
public struct PlateListener: Sendable {
    public struct Settings: Sendable, Hashable {
        public var host: String
        public var port: Int
        /// Pictures make pushes large: a scene JPEG of 1–2 MB is common.
        public var maxBodyBytes: Int
        /// A booth has a few cameras: a peer on the LAN that opens connections and trickles
        /// bytes must not take the daemon's descriptors, which its devices and spool need.
        public var limits: ConnectionLimits
        public init(host: String, port: Int, maxBodyBytes: Int = 8 << 20) {
            self.host = host
            self.port = port
            self.maxBodyBytes = maxBodyBytes
            limits = ConnectionLimits()
            limits.maxConnections = 64
            limits.headerTimeout = .seconds(10)
            limits.bodyTimeout = .seconds(60)
            limits.idleTimeout = .seconds(30)
        }
    }

    public let settings: Settings
    public let cameras: [String: PlateCamera]
    public let inbox: PlateInbox
    public let counters: PlateListenerCounters
    let board: DeviceStatusBoard
    let deviceCounters: [DeviceIndex: DeviceCounters]

    public init(settings: Settings, cameras: [PlateCamera], inbox: PlateInbox, board: DeviceStatusBoard,
                deviceCounters: [DeviceIndex: DeviceCounters]) {
        self.settings = settings
        self.cameras = Dictionary(cameras.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.inbox = inbox
        self.board = board
        self.deviceCounters = deviceCounters
        counters = PlateListenerCounters()
    }

    /// The outcome of one push, as counted and as answered.
    public enum Outcome: String, Sendable, CaseIterable {
        case accepted, ignored
        case unknownCamera = "unknown_camera", unauthorized
        case unsupported, malformed, tooLarge = "too_large"
        case inboxFull = "inbox_full"
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1/plates/:camera") { request, context in
            await handle(request, camera: context.parameters.get("camera") ?? "", time: .now())
        }
        return router
    }

    /// Serves until cancelled or shut down gracefully. An address that cannot be bound (the booth
    /// LAN's interface not up yet at boot, a typo) is retried, from 1 s to 30 s apart, with the
    /// cameras in `error` saying why: the readers and loops go on either way.
    public func run(logger: Logger) async throws {
        for camera in cameras.values {
            board.report(camera.device, .configured, "waiting for pushes on \(settings.host):\(settings.port)")
        }
        var quiet = logger
        quiet.logLevel = .warning
        var backoff = Duration.seconds(1)
        var lastFailure = ""
        while !Task.isCancelled {
            // One registry per server; the handler list is made anew for every connection.
            let registry = ConnectionRegistry(limits: settings.limits)
            let guarded = HTTPServerBuilder.http1(configuration: .init(additionalChannelHandlers: [ConnectionGuard(registry: registry)]))
            let app = Application(router: router(), server: guarded,
                                  configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "lanegate"),
                                  onServerRunning: { [settings] _ in
                                      logger.info("plate cameras: listening on http://\(settings.host):\(settings.port)/v1/plates/{camera}")
                                  },
                                  logger: quiet)
            do {
                try await app.runService(gracefulShutdownSignals: [])
                return
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                let failure = "cannot listen on \(settings.host):\(settings.port): \(error)"
                if failure != lastFailure { logger.error("plate cameras: \(failure); retrying") }
                lastFailure = failure
                for camera in cameras.values { board.report(camera.device, .error, failure) }
            }
            let wait = backoff
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) } } catch { return }
            backoff = min(backoff * 2, .seconds(30))
        }
    }

    func handle(_ request: Request, camera name: String, time: MonotonicInstant) async -> Response {
        guard let camera = cameras[name] else {
            return answer(.unknownCamera, camera: nil, .notFound, "no camera named \"\(name.prefix(64))\"")
        }
        guard let token = Self.token(request), camera.accepts(token) else {
            return answer(.unauthorized, camera: camera, .unauthorized, "a camera token is required: Authorization: Bearer <token> or ?token=")
        }
        var request = request
        let body: [UInt8]
        do { body = Array(try await request.collectBody(upTo: settings.maxBodyBytes).readableBytesView) } catch {
            return refused(PlateReportError(.tooLarge, "the body exceeds \(settings.maxBodyBytes) bytes"), camera: camera)
        }
        deviceCounters[camera.device]?.bytesIn.add(UInt64(body.count), ordering: .relaxed)
        let reads: [CameraPlateRead]
        do { reads = try camera.decode(body: body, contentType: request.headers[.contentType] ?? "") } catch {
            return refused(error, camera: camera)
        }
        deviceCounters[camera.device]?.frames.add(1, ordering: .relaxed)
        guard !reads.isEmpty else { return answer(.ignored, camera: camera, .ok, "no plate read in this push") }
        for read in reads {
            guard inbox.push(PlateSighting(read, device: camera.device, time: time)) else {
                return answer(.inboxFull, camera: camera, .serviceUnavailable, "the gateway is behind; the read is counted as lost")
            }
            deviceCounters[camera.device]?.detections.add(1, ordering: .relaxed)
        }
        board.report(camera.device, .reading, "pushing plate reads")
        return answer(.accepted, camera: camera, .ok, "\(reads.count) read\(reads.count == 1 ? "" : "s") taken")
    }

    private func refused(_ error: PlateReportError, camera: PlateCamera) -> Response {
        let outcome: Outcome, status: HTTPResponse.Status
        switch error.kind {
        case .unsupported: (outcome, status) = (.unsupported, .unsupportedMediaType)
        case .malformed: (outcome, status) = (.malformed, .badRequest)
        case .tooLarge: (outcome, status) = (.tooLarge, .contentTooLarge)
        }
        if let counters = deviceCounters[camera.device] {
            if error.kind == .tooLarge { counters.oversizedFrames.add(1, ordering: .relaxed) } else { counters.badRecords.add(1, ordering: .relaxed) }
        }
        // The detail is the camera's own data: kept short, it names the fault without letting a
        // broken camera write essays into the batch.
        board.report(camera.device, .error, "push refused, \(error.kind.rawValue): \(error.detail.prefix(120))")
        return answer(outcome, camera: camera, status, error.description)
    }

    private func answer(_ outcome: Outcome, camera: PlateCamera?, _ status: HTTPResponse.Status, _ text: String) -> Response {
        counters.count(outcome, camera: camera?.name)
        return Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    static func token(_ request: Request) -> String? {
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            return String(header.dropFirst("Bearer ".count))
        }
        return request.uri.queryParameters.get("token")
    }
}

/// Pushes by camera and outcome, since the listener started; unknown cameras under "".
public final class PlateListenerCounters: Sendable {
    private let counts = Mutex<[String: [PlateListener.Outcome: UInt64]]>([:])

    func count(_ outcome: PlateListener.Outcome, camera: String?) {
        counts.withLock { $0[camera ?? "", default: [:]][outcome, default: 0] += 1 }
    }

    public var snapshot: [String: [PlateListener.Outcome: UInt64]] { counts.withLock { $0 } }

    public func value(_ outcome: PlateListener.Outcome, camera: String? = nil) -> UInt64 {
        counts.withLock { $0[camera ?? ""]?[outcome] ?? 0 }
    }
}
