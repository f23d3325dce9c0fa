import CLaneSystem
import Hummingbird
import LaneCore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals
import LaneSpool
import LaneUplink
import Prometheus

/// The gateway's face to systemd and to operators: `READY=1` when the group starts, then once
/// a second the `STATUS=` line, the metrics, and `WATCHDOG=1` — fed only while the pipeline
/// thread turns. Serves `/metrics` and, with a configuration file, reads it again on each
/// SIGHUP. At shutdown it says `STOPPING=1` first.
struct StatusService: Service {
    let config: GatewayConfig
    let configPath: String?
    let parts: RunningParts
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async {
        let metrics = GatewayMetrics()
        let endpoint = MetricsEndpoint(metrics: metrics, logger: logger)
        endpoint.serve(on: config.metricsListen)
        let pendingRestart = PendingRestart()
        let hangups = configPath == nil ? nil : await UnixSignalsSequence(trapping: .sighup)
        notifier.ready(status: await parts.summary())
        // Start-up code (argument parsing, configuration, device set-up) runs once; let its pages
        // go from our mappings so that what stays resident is what the daemon keeps using.
        let unmapped = lanegate_unmap_startup_code()
        logger.debug("unmapped \(unmapped / 1024) KiB of code pages after start-up")
        await withTaskGroup(of: Void.self) { group in
            if let hangups, let configPath {
                group.addTask {
                    await reload(path: configPath, on: hangups, endpoint: endpoint, pendingRestart: pendingRestart)
                }
            }
            await cancelWhenGracefulShutdown {
                await beat(metrics: metrics, pendingRestart: pendingRestart)
            }
            group.cancelAll()
        }
        notifier.stopping(status: "stopping: draining devices and committing the spool")
        logger.info("stopping")
        await endpoint.stop()
    }

    /// Once a second until cancelled (at most the watchdog's half-interval).
    private func beat(metrics: GatewayMetrics, pendingRestart: PendingRestart) async {
        let interval = notifier.watchdogInterval.map { min($0, .seconds(1)) } ?? .seconds(1)
        var lastTurns: UInt64 = 0
        while !Task.isCancelled {
            do { try await Task.sleep(for: .nanoseconds(interval)) } catch { return }
            let turns = parts.progress.turns.load(ordering: .relaxed)
            if turns != lastTurns { notifier.watchdog() }
            lastTurns = turns
            notifier.status(await parts.summary(pendingRestart: pendingRestart.tables))
            metrics.refresh(layout: parts.layout, devices: parts.counters, rings: parts.rings, board: parts.board,
                            progress: parts.progress, spool: await parts.spool.status(), uplink: parts.uplink.statistics,
                            clock: ClockAnchor.now(), plates: parts.plates)
        }
    }

    /// Each SIGHUP reads the file again. A file with errors is reported and the running
    /// configuration stays; a valid one moves the metrics server if `[metrics]` changed, and
    /// the tables only a restart applies are logged and kept in the status line.
    private func reload(path: String, on hangups: UnixSignalsSequence, endpoint: MetricsEndpoint,
                        pendingRestart: PendingRestart) async {
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
            notifier.ready(status: await parts.summary(pendingRestart: pendingRestart.tables))
        }
    }
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
