import ArgumentParser
import LaneGateway
import Logging
import ServiceLifecycle
import LaneTOML
import UnixSignals

/// `lanegate run`: the daemon, as systemd starts it.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the gateway: read the devices, make lane events, spool and forward them.",
        discussion: """
            Logs go to standard error (journald-ready under systemd). SIGTERM or SIGINT stops it \
            cleanly: devices stop, their rings drain, the open batch is committed. SIGHUP \
            (systemctl reload) reads the configuration again: [metrics] moves at once, and the log \
            and status line name what takes a restart; a file with errors is refused.
            """)

    @Option(help: "The configuration file.") var config = "/etc/lanegate/lanegate.toml"
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: Logger.Level = .info

    func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = JournalLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "lanegate")
        let settings: GatewayConfig
        do { settings = try GatewayConfig.load(path: config) } catch { fail(error, status: configurationErrorStatus) }
        guard settings.collector != nil else {
            fail(ConfigError(file: config, line: nil, key: "collector.url", message: "lanegate run needs a [collector] table with url"),
                 status: configurationErrorStatus)
        }
        let unreadable = settings.unreadableFiles(source: config)
        if !unreadable.isEmpty { fail(ConfigErrors(errors: unreadable), status: configurationErrorStatus) }
        var service = GatewayService(config: settings, pseudonymizer: try loadPseudonymizer(settings), logger: logger)
        service.configPath = config
        let group = ServiceGroup(configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        do { try await group.run() } catch { fail(error) }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
