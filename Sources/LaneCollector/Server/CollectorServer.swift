import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import LaneHTTPGuard
import Logging
import NIOCore
import NIOSSL

extension Collector {
    /// The collector's HTTP server: its routes behind the connection guard, over TLS when
    /// `tls` is given. The one place the daemon, the demo and the tests build it.
    public func application(
        address: BindAddress, tls: TLSConfiguration? = nil, limits: ConnectionLimits = ConnectionLimits(),
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }, logger: Logger
    ) throws -> Application<RouterResponder<CollectorContext>> {
        let registry = ConnectionRegistry(limits: limits)
        let http = HTTPServerBuilder.http1(configuration: .init(additionalChannelHandlers: [ConnectionGuard(registry: registry)]))
        return Application(
            router: router(), server: try tls.map { try .tls(http, tlsConfiguration: $0) } ?? http,
            configuration: .init(address: address, serverName: "lanegate-collector", backlog: 1024),
            onServerRunning: onServerRunning, logger: logger)
    }
}
