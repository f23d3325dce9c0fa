import Hummingbird
import LaneCore
import LaneDevices
import LaneSpool
import LaneUplink
import NIOPosix
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `lanegate run`: the devices, the pipeline thread, the spool and the uplink, under systemd.
///
/// Start: open the spool, start every configured device and the pipeline, start sending, then
/// `READY=1`. While running: a one-line `STATUS=` every few seconds, and `WATCHDOG=1` only when
/// the pipeline thread has turned since the last feed. On SIGTERM or SIGINT: `STOPPING=1`,
/// stop the devices, drain their rings, commit the open batch, give the uplink a moment to
/// deliver it, and return.
public struct GatewayService: Service {
    public let config: GatewayConfig
    public let pseudonymizer: TagPseudonymizer?
    public let logger: Logger
    public let notifier: SystemdNotifier
    /// How long the uplink may keep delivering after the pipeline stopped.
    public var finalDelivery: Duration = .seconds(3)
    /// The file `config` came from, read again on SIGHUP; nil: SIGHUP is ignored.
    public var configPath: String?

    public init(config: GatewayConfig, pseudonymizer: TagPseudonymizer?, logger: Logger,
                notifier: SystemdNotifier = SystemdNotifier()) {
        self.config = config
        self.pseudonymizer = pseudonymizer
        self.logger = logger
        self.notifier = notifier
    }

    public func run() async throws {
        guard let collector = config.collector else {
            throw ConfigError(file: "configuration", line: nil, key: "collector.url", message: "lanegate run needs a [collector] with url")
        }
        let spool = Spool(path: config.spoolPath, gatewayID: config.gatewayID, settings: config.spoolSettings,
                          nowUTC: ClockAnchor.now().utcNanoseconds)
        if let degraded = spool.status().degraded { logger.warning("spool degraded: \(degraded)") }
        let uplink = try Uplink(spool: spool, settings: try collector.uplinkSettings(), logger: logger)

        let board = DeviceStatusBoard(devices: config.layout.devices.count)
        let supervisor = DeviceSupervisor(board: board)
        let rings = config.layout.devices.map { _ in SPSCRing<Detection>(capacity: 4096) }
        for device in config.layout.devices.indices where config.deviceSetups[device] == nil {
            logger.warning("\(config.layout.devices[device].name): no tty, usb, host or gpio_chip configured; not read")
        }
        let counters = supervisor.start(config: config, rings: rings)
        let started = counters.compactMap { $0 }.count
        let activity = LaneActivity(layout: config.layout)
        let gateway = LiveGateway(config: config, pseudonymizer: pseudonymizer, rings: rings, board: board,
                                  spool: spool, activity: activity, logger: logger)
        let monitoring = config.monitorSocket.map { path in
            let sources = MonitorSources(gateway: config.gatewayID, source: "daemon", activity: activity, board: board,
                                         counters: counters, spool: spool, uplink: uplink)
            let server = MonitorServer(path: path, logger: logger) { sources.snapshot() }
            return Task { await server.run() }
        }
        let sending = Task { await uplink.run() }
        let metrics = GatewayMetrics()
        let endpoint = MetricsEndpoint(metrics: metrics, logger: logger)
        endpoint.serve(on: config.metricsListen)
        let pendingRestart = PendingRestart()
        let status: @Sendable () -> String = { [self] in
            summary(board: board, spool: spool, uplink: uplink, pendingRestart: pendingRestart.tables)
        }
        let reloading = await reloadOnHangup(endpoint: endpoint, pendingRestart: pendingRestart, status: status)
        logger.info("running: \(started) of \(config.layout.devices.count) devices, spool \(config.spoolPath), collector \(collector.url)")
        notifier.ready(status: status())

        // Until SIGTERM/SIGINT, once a second: metrics, status, and the watchdog — fed only
        // while the pipeline thread turns.
        let interval = notifier.watchdogInterval.map { min($0, .seconds(1)) } ?? .seconds(1)
        let layout = config.layout
        try? await cancelWhenGracefulShutdown { [notifier] in
            var lastTurns: UInt64 = 0
            while !Task.isCancelled {
                try await Task.sleep(for: .nanoseconds(interval))
                let turns = gateway.progress.turns.load(ordering: .relaxed)
                if turns != lastTurns { notifier.watchdog() }
                lastTurns = turns
                notifier.status(status())
                metrics.refresh(layout: layout, devices: counters, rings: rings, board: board, progress: gateway.progress,
                                spool: spool.status(), uplink: uplink.statistics, clock: ClockAnchor.now())
            }
        }

        notifier.stopping(status: "stopping: draining devices and committing the spool")
        logger.info("stopping")
        // Joining the device and pipeline threads blocks: not on the cooperative pool.
        await offPool {
            supervisor.stop()
            gateway.stop()
        }
        let deadline = ContinuousClock.now + finalDelivery
        while spool.depth > 0 && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        sending.cancel()
        await sending.value
        reloading?.cancel()
        monitoring?.cancel()
        await monitoring?.value
        await endpoint.stop()
        try? await uplink.shutdown()
        await offPool { spool.close(nowUTC: ClockAnchor.now().utcNanoseconds) }
        logger.info("stopped: \(spool.depth) batches wait in the spool for the next start")
    }

    /// Until cancelled, each SIGHUP reads the file again. A file with errors is reported and the
    /// running configuration stays; a valid one moves the metrics server if `[metrics]` changed,
    /// and the tables only a restart applies are logged and kept in the status line.
    private func reloadOnHangup(endpoint: MetricsEndpoint, pendingRestart: PendingRestart,
                                status: @escaping @Sendable () -> String) async -> Task<Void, Never>? {
        guard let path = configPath else { return nil }
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        return Task { [config, logger, notifier] in
            var lastText = config.sourceText
            for await _ in hangups {
                notifier.send("RELOADING=1")
                do {
                    let reload = try ConfigReload(path: path, lastText: lastText, startText: config.sourceText)
                    lastText = reload.text
                    if reload.appliedNow.contains("metrics") { endpoint.serve(on: reload.config.metricsListen) }
                    let pending = reload.needRestart
                    pendingRestart.set(pending)
                    logger.notice("""
                        reload of \(path): \(reload.changed.isEmpty ? "no changes" : "changed " + reload.changed.joined(separator: ", ")); \
                        applied: \(reload.appliedNow.isEmpty ? "nothing" : reload.appliedNow.joined(separator: ", ")); \
                        \(pending.isEmpty ? "nothing waits for a restart" : "takes a restart: " + pending.joined(separator: ", ") + " (systemctl restart lanegate; the spool keeps everything)")
                        """)
                } catch {
                    logger.error("reload of \(path) refused, still running on the configuration it had: \(error)")
                }
                notifier.ready(status: status())
            }
        }
    }

    /// One line for `systemctl status`: devices up, spool depth, link, and what a restart would apply.
    func summary(board: DeviceStatusBoard, spool: Spool, uplink: Uplink, pendingRestart: [String] = []) -> String {
        let entries = board.entries
        let reading = entries.filter { $0.state == .reading }.count
        let configured = config.deviceSetups.compactMap { $0 }.count
        let stats = uplink.statistics
        let restart = pendingRestart.isEmpty ? "" : "; restart to apply " + pendingRestart.joined(separator: ", ")
        return "devices \(reading)/\(configured) reading, spool \(spool.depth) batches, sent \(stats.acknowledged), retries \(stats.retries)\(restart)"
    }
}

/// Runs blocking work (thread joins, SQLite) on NIO's thread pool rather than the cooperative
/// one; inline should the pool refuse, since the work must happen either way.
func offPool(_ work: @escaping @Sendable () -> Void) async {
    do { try await NIOThreadPool.singleton.runIfActive(work) } catch { work() }
}

/// The tables changed since start that only a restart applies, for the status line.
final class PendingRestart: Sendable {
    private let changed = Mutex<[String]>([])

    var tables: [String] { changed.withLock { $0 } }

    func set(_ tables: [String]) { changed.withLock { $0 = tables } }
}

/// The `/metrics` server on a local port, which a reload can move. A port that cannot be bound
/// is logged, not fatal.
final class MetricsEndpoint: Sendable {
    let metrics: GatewayMetrics
    let logger: Logger
    private let serving = Mutex<Task<Void, Never>?>(nil)

    init(metrics: GatewayMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    /// Serves on `listen` (nil: not at all), in place of where it served before.
    func serve(on listen: (host: String, port: Int)?) {
        let next = listen.map { listen in Task { [self] in await run(on: listen) } }
        serving.withLock { task in
            task?.cancel()
            task = next
        }
    }

    func stop() async {
        let task = serving.withLock { task in
            defer { task = nil }
            return task
        }
        task?.cancel()
        await task?.value
    }

    private func run(on listen: (host: String, port: Int)) async {
        let router = Router()
        router.get("/metrics") { [metrics] _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
        }
        var quiet = logger
        quiet.logLevel = .warning
        let app = Application(router: router, configuration: .init(address: .hostname(listen.host, port: listen.port),
                                                                   serverName: "lanegate"), logger: quiet)
        logger.info("metrics on http://\(listen.host):\(listen.port)/metrics")
        do { try await app.runService(gracefulShutdownSignals: []) } catch is CancellationError {} catch {
            logger.error("metrics: cannot serve on \(listen.host):\(listen.port): \(error)")
        }
    }
}
