import LaneCore
import LaneDevices
import LaneSpool
import LaneWire
import LaneUplink
import NIOPosix
import Logging
import ServiceLifecycle
import LaneTOML

/// `lanegate run`: the devices, the pipeline thread, the spool and the uplink, under systemd.
///
/// Start: open the spool, start every configured device and the pipeline, then run the parts
/// as one ordered `ServiceGroup` (``UplinkService``, ``PipelineService``, ``MonitorService``,
/// ``StatusService``); the last one says `READY=1`. A graceful shutdown (SIGTERM, SIGINT) stops
/// them in reverse order, each once the one after it has returned: status and metrics go
/// first (`STOPPING=1`), then the monitor; the pipeline stops the devices, drains their rings
/// and commits the open batch; the uplink then delivers for a moment. The spool closes last.
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
        let spool = AsyncSpool(await offPool { [config] in
            Spool(path: config.spoolPath, gatewayID: config.gatewayID, settings: config.spoolSettings,
                  nowUTC: ClockAnchor.now().utcNanoseconds)
        })
        if let degraded = await spool.status().degraded { logger.warning("spool degraded: \(degraded)") }
        let dictionaryUse = DictionaryUse(policy: collector.zstdDictionary)
        let uplink = try Uplink(spool: spool, settings: try collector.uplinkSettings(dictionaryUse: dictionaryUse), logger: logger)

        let board = DeviceStatusBoard(devices: config.layout.devices.count)
        let supervisor = DeviceSupervisor(board: board)
        let rings = config.layout.devices.map { _ in SPSCRing<Detection>(capacity: 4096) }
        for device in config.layout.devices.indices where config.deviceSetups[device] == nil && config.layout.devices[device].kind != .camera {
            logger.warning("\(config.layout.devices[device].name): no tty, usb, host or gpio_chip configured; not read")
        }
        // Cameras are read before anything starts: a missing token stops the start with its reason.
        let cameras = try config.plateCameras.map { try $0.camera(name: config.layout.devices[Int($0.device.rawValue)].name) }
        var counters = supervisor.start(config: config, rings: rings)
        let plates = PlateInbox()
        var listener: PlateListener?
        if let settings = config.plateListener, !cameras.isEmpty {
            var cameraCounters: [DeviceIndex: DeviceCounters] = [:]
            for camera in cameras {
                let made = DeviceCounters()
                counters[Int(camera.device.rawValue)] = made
                cameraCounters[camera.device] = made
            }
            listener = PlateListener(settings: settings, cameras: cameras, inbox: plates, board: board, deviceCounters: cameraCounters)
        }
        let activity = LaneActivity(layout: config.layout)
        let gateway = LiveGateway(config: config, pseudonymizer: pseudonymizer, rings: rings, board: board,
                                  spool: spool.spool, activity: activity, plates: listener == nil ? nil : plates,
                                  dictionaryUse: dictionaryUse, logger: logger)
        let parts = RunningParts(layout: config.layout, configuredDevices: config.deviceSetups.compactMap { $0 }.count + cameras.count,
                                 board: board, counters: counters, rings: rings, progress: gateway.progress,
                                 spool: spool, uplink: uplink, plates: listener)

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: UplinkService(uplink: uplink, finalDelivery: finalDelivery)),
            .init(service: PipelineService(supervisor: supervisor, gateway: gateway)),
        ]
        if let listener {
            // After the pipeline in the group, so it stops first: no read is taken that the
            // pipeline will not drain. An address it cannot bind is retried, never fatal.
            services.append(.init(service: PlateListenerService(listener: listener, logger: logger)))
        }
        if let path = config.monitorSocket {
            let sources = MonitorSources(gateway: config.gatewayID, source: "daemon", activity: activity, board: board,
                                         counters: counters, spool: spool, uplink: uplink)
            let server = MonitorServer(path: path, logger: logger) { await sources.snapshot() }
            // A socket that cannot be made is logged, not fatal: the service may end early.
            services.append(.init(service: MonitorService(server: server), successTerminationBehavior: .ignore))
        }
        services.append(.init(service: StatusService(config: config, configPath: configPath, parts: parts,
                                                     notifier: notifier, logger: logger)))
        logger.info("running: \(counters.compactMap { $0 }.count) of \(config.layout.devices.count) devices, spool \(config.spoolPath), collector \(collector.url)")
        try await ServiceGroup(configuration: .init(services: services, logger: logger)).run()

        try? await uplink.shutdown()
        await spool.close(nowUTC: ClockAnchor.now().utcNanoseconds)
        let waiting = await spool.depth
        logger.info("stopped: \(waiting) batches wait in the spool for the next start")
    }
}

/// What the status line, the metrics and the monitor read from a running gateway.
struct RunningParts: Sendable {
    let layout: LaneLayout
    let configuredDevices: Int
    let board: DeviceStatusBoard
    let counters: [DeviceCounters?]
    let rings: [SPSCRing<Detection>]
    let progress: LiveGateway.Progress
    let spool: AsyncSpool
    let uplink: Uplink
    var plates: PlateListener? = nil

    /// One line for `systemctl status`: devices up, spool depth, link, and what a restart would apply.
    func summary(pendingRestart: [String] = []) async -> String {
        let reading = board.entries.filter { $0.state == .reading }.count
        let stats = uplink.statistics
        let depth = await spool.depth
        let restart = pendingRestart.isEmpty ? "" : "; restart to apply " + pendingRestart.joined(separator: ", ")
        return "devices \(reading)/\(configuredDevices) reading, spool \(depth) batches, sent \(stats.acknowledged), retries \(stats.retries)\(restart)"
    }
}

/// Runs blocking work (thread joins, opening SQLite) on NIO's thread pool rather than the
/// cooperative one; inline should the pool refuse, since the work must happen either way.
func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    do { return try await NIOThreadPool.singleton.runIfActive(work) } catch { return work() }
}
