import ArgumentParser
import Hummingbird
import HummingbirdTLS
import LaneCollector
import Logging
import NIOCore
import NIOSSL

/// `lanegate-collector`: the central server that receives, verifies and stores gateway batches.
@main
struct CollectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lanegate-collector",
        abstract: "Receive lane-event batches from lanegate gateways, store them exactly once, answer queries.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port, printed at start).") var port = 8443
    @Option(help: "The SQLite database file (created when missing).") var database = "/var/lib/lanegate-collector/events.db"
    @Option(help: "Gateway tokens: one `gateway-id token` per line.") var tokens: String
    @Option(help: "TLS certificate chain (PEM). Without it the server speaks plain HTTP.") var tlsCertificate: String?
    @Option(help: "TLS private key (PEM).") var tlsKey: String?
    @Option(help: "CA bundle (PEM) for gateway client certificates: with it, every gateway must present one, and its common name is its id.")
    var clientCa: String?

    func run() async throws {
        let logger = Logger(label: "lanegate.collector")
        let collector: Collector
        do {
            let text = try String(contentsOfFile: tokens, encoding: .utf8)
            collector = Collector(store: try SQLiteEventStore(path: database),
                                  tokens: try GatewayTokens(text: text, file: tokens))
        } catch {
            throw ValidationError("\(error)")
        }
        let address = BindAddress.hostname(host, port: port)
        let announce: @Sendable (any Channel) async -> Void = { channel in
            print("lanegate-collector: listening on \(host):\(channel.localAddress?.port ?? port)")
        }
        if let certificate = tlsCertificate, let key = tlsKey {
            var tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            if let clientCa {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(clientCa))
                tls.certificateVerification = .noHostnameVerification
            }
            let app = Application(router: collector.router(), server: try .tls(tlsConfiguration: tls),
                                  configuration: .init(address: address, serverName: "lanegate-collector"),
                                  onServerRunning: announce, logger: logger)
            try await app.runService()
        } else {
            let app = Application(router: collector.router(), configuration: .init(address: address, serverName: "lanegate-collector"),
                                  onServerRunning: announce, logger: logger)
            try await app.runService()
        }
    }
}
