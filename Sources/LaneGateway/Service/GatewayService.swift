import Hummingbird
import LaneCore
import LaneDevices
import LaneSpool
import LaneUplink
import Logging
import ServiceLifecycle

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
        var counters = [DeviceCounters?](repeating: nil, count: rings.count)
        for (i, device) in config.layout.devices.enumerated() {
            guard let setup = config.deviceSetups[i] else {
                logger.warning("\(device.name): no tty, usb, host or gpio_chip configured; not read")
                continue
            }
            if setup.wake != nil { USBHotplug.start() }
            counters[i] = supervisor.start(setup.driver, index: DeviceIndex(UInt16(i)), name: device.name, ring: rings[i], wake: setup.wake)
        }
        let started = counters.compactMap { $0 }.count
        let gateway = LiveGateway(config: config, pseudonymizer: pseudonymizer, rings: rings, board: board,
                                  spool: spool, logger: logger)
        let sending = Task { await uplink.run() }
        let metrics = GatewayMetrics()
        let serving = config.metricsListen.map { listen in Task { [logger] in await serveMetrics(metrics, on: listen, logger: logger) } }
        logger.info("running: \(started) of \(config.layout.devices.count) devices, spool \(config.spoolPath), collector \(collector.url)")
        notifier.ready(status: summary(board: board, spool: spool, uplink: uplink))

        // Until SIGTERM/SIGINT, once a second: metrics, status, and the watchdog — fed only
        // while the pipeline thread turns.
        let interval = notifier.watchdogInterval.map { min($0, .seconds(1)) } ?? .seconds(1)
        let layout = config.layout
        let frozenCounters = counters
        try? await cancelWhenGracefulShutdown { [notifier] in
            var lastTurns: UInt64 = 0
            while !Task.isCancelled {
                try await Task.sleep(for: .nanoseconds(interval))
                let turns = gateway.progress.turns.load(ordering: .relaxed)
                if turns != lastTurns { notifier.watchdog() }
                lastTurns = turns
                notifier.status(summary(board: board, spool: spool, uplink: uplink))
                metrics.refresh(layout: layout, devices: frozenCounters, rings: rings, board: board, progress: gateway.progress,
                                spool: spool.status(), uplink: uplink.statistics, clock: ClockAnchor.now())
            }
        }

        notifier.stopping(status: "stopping: draining devices and committing the spool")
        logger.info("stopping")
        supervisor.stop()
        gateway.stop()
        let deadline = ContinuousClock.now + finalDelivery
        while spool.depth > 0 && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        sending.cancel()
        await sending.value
        serving?.cancel()
        await serving?.value
        try? await uplink.shutdown()
        logger.info("stopped: \(spool.depth) batches wait in the spool for the next start")
    }

    /// `/metrics` on a local port; a port that cannot be bound is logged, not fatal.
    private func serveMetrics(_ metrics: GatewayMetrics, on listen: (host: String, port: Int), logger: Logger) async {
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
        }
        var quiet = logger
        quiet.logLevel = .warning
        let app = Application(router: router, configuration: .init(address: .hostname(listen.host, port: listen.port),
                                                                   serverName: "lanegate"), logger: quiet)
        do { try await app.runService(gracefulShutdownSignals: []) } catch is CancellationError {} catch {
            logger.error("metrics: cannot serve on \(listen.host):\(listen.port): \(error)")
        }
    }

    /// One line for `systemctl status`: devices up, spool depth, link.
    func summary(board: DeviceStatusBoard, spool: Spool, uplink: Uplink) -> String {
        let entries = board.entries
        let reading = entries.filter { $0.state == .reading }.count
        let configured = config.deviceSetups.compactMap { $0 }.count
        let stats = uplink.statistics
        return "devices \(reading)/\(configured) reading, spool \(spool.depth) batches, sent \(stats.acknowledged), retries \(stats.retries)"
    }
}
