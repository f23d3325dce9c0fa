import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import LaneAnalytics
import LaneCollector
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import UnixSignals
import LaneHTTPGuard
import LaneTOML

/// `lanegate-collector`: the central server that receives, verifies and stores gateway batches.
@main
struct CollectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lanegate-collector",
        abstract: "Receive lane-event batches from lanegate gateways, store them exactly once, answer queries.",
        subcommands: [Serve.self, Migrate.self, Gateways.self], defaultSubcommand: Serve.self)
}

/// The server (what runs when no subcommand is named).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the collector's API (the default).")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port, printed at start).") var port = 8443
    @OptionGroup var store: StoreOptions
    @Option(help: "Gateway tokens: one `gateway-id token` per line. Without it, the gateways registered in the store (`lanegate-collector gateways`).")
    var tokens: String?
    @Option(help: "Read tokens: one `reader-name token [scope]` or `reader-name sha256:<hex> [scope]` per line; scope `public` (the feed), `ports=A,B` (an agency) or `admin` (the default).")
    var readTokens: String?
    @Flag(help: "Let anyone read /v1/events and /v1/gateways without a token (for a demo on loopback only).")
    var publicRead = false
    @Option(help: "TLS certificate chain (PEM). Without it the server speaks plain HTTP.") var tlsCertificate: String?
    @Option(help: "TLS private key (PEM).") var tlsKey: String?
    @Option(help: "CA bundle (PEM) for gateway client certificates: with it, every gateway must present one, and its common name is its id.")
    var clientCa: String?
    @Option(help: "Open connections at most; beyond it the longest-idle one is closed.") var maxConnections = 4096
    @Option(help: "The port file (TOML, [[port]] tables): the routes whose wait and crossing times /v1/ports/… answers.")
    var ports: String?
    @Option(help: "Minutes without a batch after which a gateway raises a gateway_silent alarm.")
    var gatewaySilentMinutes = 10

    func validate() throws {
        guard readTokens != nil || publicRead else {
            throw ValidationError("say who may read the data: --read-tokens FILE, or --public-read for a demo")
        }
        guard readTokens == nil || !publicRead else { throw ValidationError("--read-tokens and --public-read exclude each other") }
        guard (tlsCertificate == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-certificate and --tls-key go together: give both, or neither for plain HTTP")
        }
        guard clientCa == nil || tlsCertificate != nil else { throw ValidationError("--client-ca needs --tls-certificate and --tls-key") }
        guard (1...1_000_000).contains(maxConnections) else { throw ValidationError("--max-connections must be 1 to 1000000") }
        guard (1...10_080).contains(gatewaySilentMinutes) else { throw ValidationError("--gateway-silent-minutes must be 1 to 10080 (a week)") }
        try store.validate()
    }

    func run() async throws {
        let logger = Logger(label: "lanegate.collector")
        let collector: Collector
        let opened: (store: any EventStore, service: (any Service)?)
        var tls: TLSConfiguration?
        let metrics = CollectorMetrics()
        var settings = CollectorSettings()
        settings.gatewaySilentAfter = .seconds(gatewaySilentMinutes * 60)
        do {
            let fixed = try tokens.map { try GatewayTokens(text: try Self.read($0, "--tokens"), file: $0) }
            opened = try await store.open(logger: logger, registry: metrics.registry)
            // SQLite answers at once; PostgreSQL's store needs its pool running, which only
            // the service group starts: a short-lived store of its own reads the registry.
            let registered = fixed != nil ? []
                : opened.service == nil ? try await opened.store.registeredGateways()
                : try await store.withStore(logger: logger) { try await $0.registeredGateways() }
            let known = fixed?.known ?? Set(registered.map(\.gateway))
            if fixed == nil {
                logger.info("gateways: \(registered.count) registered in the store")
                if registered.isEmpty { logger.warning("no gateway is registered yet: add them with `lanegate-collector gateways add`") }
            }
            let access: ReadAccess = try readTokens.map { .tokens(try ReadTokens(text: try Self.read($0, "--read-tokens"), file: $0)) }
                ?? .publicRead
            if let certificate = tlsCertificate, let key = tlsKey {
                var configuration = TLSConfiguration.makeServerConfiguration(
                    certificateChain: try Self.pem(certificate, "--tls-certificate") { try NIOSSLCertificate.fromPEMFile($0) }
                        .map { .certificate($0) },
                    privateKey: .privateKey(try Self.pem(key, "--tls-key") { try NIOSSLPrivateKey(file: $0, format: .pem) }))
                if let clientCa {
                    configuration.trustRoots = .certificates(try Self.pem(clientCa, "--client-ca") { try NIOSSLCertificate.fromPEMFile($0) })
                    configuration.certificateVerification = .noHostnameVerification
                }
                tls = configuration
            }
            let portFile = try ports.map { try PortLayoutFile.read(try Self.read($0, "--ports"), file: $0, knownGateways: known) }
            let layouts = portFile?.ports ?? []
            if case .tokens(let readers) = access {
                let unknown = readers.grantedPorts.subtracting(layouts.map(\.id))
                guard unknown.isEmpty else {
                    throw CollectorSetupError("--read-tokens grants ports the port file does not define: \(unknown.sorted().joined(separator: ", "))")
                }
            }
            settings.webhooks = try webhooks(ports: Set(layouts.map(\.id)))
            let directory = fixed.map { GatewayDirectory(fixed: $0) }
                ?? GatewayDirectory(registryOf: opened.store, registered: registered, logger: logger)
            collector = Collector(store: opened.store, gateways: directory, readAccess: access, ports: layouts,
                                  transitRoutes: portFile?.transitRoutes ?? [], metrics: metrics,
                                  settings: settings, logger: logger)
        } catch {
            throw ValidationError("\(error)")
        }
        var limits = ConnectionLimits()
        limits.maxConnections = maxConnections
        let app = try collector.application(
            address: .hostname(host, port: port), tls: tls, limits: limits,
            onServerRunning: { [host, port] channel in print("lanegate-collector: listening on \(host):\(channel.localAddress?.port ?? port)") },
            logger: logger)
        // The store's service (PostgreSQL's pool and writer) comes first, so that it stops last.
        let services: [any Service] = (opened.service.map { [$0] } ?? []) + [app, AlarmWatch(desk: collector.alarms), collector.webhooks]
        try await ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
    }

    /// The settings file's webhooks, each with its secret read from its file.
    private func webhooks(ports: Set<String>) throws -> [Webhook] {
        try (store.settingsFile()?.webhooks ?? []).map { entry in
            // The secret is the file's first line: an editor's final newline is not part of it.
            let text = try Self.read(entry.secretFile, "webhook \(entry.name): secret_file")
            let secret = text.firstLineTrimmed
            guard secret.utf8.count >= 16 else {
                throw CollectorSetupError("webhook \(entry.name): the secret in \(entry.secretFile) needs at least 16 characters")
            }
            let unknown = Set(entry.ports ?? []).subtracting(ports)
            guard unknown.isEmpty else {
                throw CollectorSetupError("webhook \(entry.name): ports the port file does not define: \(unknown.sorted().joined(separator: ", "))")
            }
            if let ca = entry.caFile { _ = try Self.pem(ca, "webhook \(entry.name): ca_file") { try NIOSSLCertificate.fromPEMFile($0) } }
            return entry.webhook(secret: Array(secret.utf8))
        }
    }

    /// A file's text, or an error that names the option, the path and the system's reason.
    static func read(_ path: String, _ option: String) throws -> String {
        guard let file = fopen(path, "rb") else {
            throw CollectorSetupError("\(option) \(path): cannot be read (\(String(cString: strerror(errno))))")
        }
        fclose(file)
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CollectorSetupError("\(option) \(path): cannot be read (\(error))")
        }
    }

    /// A PEM file loaded by `load`, or an error that names the option and the path.
    static func pem<T>(_ path: String, _ option: String, _ load: (String) throws -> T) throws -> T {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw CollectorSetupError("\(option) \(path): no such file, or not readable")
        }
        do { return try load(path) } catch { throw CollectorSetupError("\(option) \(path): not usable PEM (\(error))") }
    }
}
