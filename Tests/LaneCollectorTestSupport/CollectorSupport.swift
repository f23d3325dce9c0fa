import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTLS
import LaneAnalytics
import LaneCollector
import LaneCore
import LaneSpool
import LaneTestSupport
import LaneWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization
import NIOHTTP1
import LaneHTTPGuard

public let tokenA = "token-for-gateway-a-0123456789"
public let tokenB = "token-for-gateway-b-0123456789"
public let tokenHIL = "token-for-the-hardware-in-the-loop-booth"
public let tokens = GatewayTokens(pairs: [("gw-a", tokenA), ("gw-b", tokenB), ("hil-booth", tokenHIL)])
public let readToken = "read-token-for-the-test-dashboard"
public let readers = ReadTokens(pairs: [("test-reader", readToken)])

/// Cancelling the server at the end of a test is not an error worth printing.
public let quietLogger: Logger = {
    var logger = Logger(label: "test-collector")
    logger.logLevel = .critical
    return logger
}()

/// A collector on loopback, on a port the kernel picked (or `port`), running while `body` runs,
/// then shut down gracefully: cancelling a server with accepted connections still queued traps
/// in NIO (apple/swift-nio#2813), so cancellation is only the fallback after `shutdownDeadline`
/// (a guard against a hang: with the whole suite on two cores, the first tests take 12–18 s to
/// finish, and a shutdown waits for the same pool). A server that will not stop even then is an
/// error, and is left behind rather than left to hang the run.
public func withCollector<T: Sendable>(
    store: (any EventStore)? = nil, port: Int = 0, tls: TLSConfiguration? = nil,
    settings: CollectorSettings = CollectorSettings(), limits: ConnectionLimits = ConnectionLimits(),
    gatewayTokens: GatewayTokens = tokens, gateways: GatewayDirectory? = nil, ports: [PortLayout] = [],
    transitRoutes: [TransitRoute] = [],
    readAccess: ReadAccess = .tokens(readers), predatesBundles: Bool = false, predatesDictionaries: Bool = false,
    _ body: @Sendable (_ baseURL: String, _ collector: Collector) async throws -> T
) async throws -> T {
    let store = try store ?? SQLiteEventStore(path: temporaryDirectory() + "/events.db")
    let collector = Collector(store: store, gateways: gateways ?? GatewayDirectory(fixed: gatewayTokens), readAccess: readAccess,
                              ports: ports, transitRoutes: transitRoutes, settings: settings, logger: quietLogger)
    let (bound, announce) = AsyncStream.makeStream(of: Int.self)
    let running: @Sendable (any Channel) async -> Void = { channel in announce.yield(channel.localAddress!.port!) }
    let app: any Service = predatesDictionaries
        ? Application(responder: RefusingDictionaries(collector: collector.router().buildResponder()),
                      configuration: .init(address: .hostname("127.0.0.1", port: port)), onServerRunning: running, logger: quietLogger)
        : predatesBundles
        ? Application(responder: RefusingBundles(collector: collector.router().buildResponder()),
                      configuration: .init(address: .hostname("127.0.0.1", port: port)), onServerRunning: running, logger: quietLogger)
        : try collector.application(address: .hostname("127.0.0.1", port: port), tls: tls, limits: limits,
                                    onServerRunning: running, logger: quietLogger)
    let server = ServiceGroup(configuration: .init(services: [app, collector.webhooks], logger: quietLogger))
    let ended = ServerEnd()
    let serving = Task {
        defer { announce.finish() }
        do { try await server.run(); ended.withLock { $0 = .success(()) } } catch { ended.withLock { $0 = .failure(error) } }
    }
    var ports = bound.makeAsyncIterator()
    guard let listening = await ports.next() else {
        throw CollectorSetupError("the test collector did not start: \(String(describing: ended.withLock { $0 }))")
    }
    let scheme = tls == nil ? "http" : "https"
    let outcome: Result<T, any Error>
    do { outcome = .success(try await body("\(scheme)://127.0.0.1:\(listening)", collector)) } catch { outcome = .failure(error) }

    await server.triggerGracefulShutdown()
    let stopped = await eventually(within: shutdownDeadline) { ended.withLock { $0 } != nil }
    if !stopped {
        serving.cancel()
        _ = await eventually(within: .seconds(5)) { ended.withLock { $0 } != nil }
    }
    let value = try outcome.get()
    guard stopped else { throw CollectorSetupError("the test collector did not stop within \(shutdownDeadline) of a graceful shutdown") }
    try ended.withLock { $0 }?.get()
    return value
}

/// A collector as it answered bundles before it took them: 415, for a body without
/// `Content-Encoding: zstd`, before reading it.
struct RefusingBundles: HTTPResponder {
    let collector: RouterResponder<CollectorContext>

    func respond(to request: Request, context: CollectorContext) async throws -> Response {
        guard request.headers[.contentEncoding]?.lowercased() == "zstd" || request.uri.path != "/v1/batches" else {
            return Response(status: .unsupportedMediaType)
        }
        return try await collector.respond(to: request, context: context)
    }
}

/// A collector as it was before zstd dictionaries (and bundles): no announcement on its answers,
/// and a batch compressed with a dictionary refused as unreadable (400), as its decoder did.
struct RefusingDictionaries: HTTPResponder {
    let collector: RouterResponder<CollectorContext>

    func respond(to request: Request, context: CollectorContext) async throws -> Response {
        guard request.uri.path == "/v1/batches" else { return try await collector.respond(to: request, context: context) }
        guard request.headers[.contentEncoding]?.lowercased() == "zstd" else { return Response(status: .unsupportedMediaType) }
        var request = request
        let body = try await request.collectBody(upTo: 4 << 20)
        guard Zstd.dictionaryID(of: Array(body.readableBytesView)) == 0 else {
            return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: "zstd: Dictionary mismatch")))
        }
        var response = try await collector.respond(to: Request(head: request.head, body: .init(buffer: body)), context: context)
        response.headers[.lanegateZstdDictionaries] = nil
        return response
    }
}

/// How the test collector's server ended, once it has.
private final class ServerEnd: Sendable {
    private let result = Mutex<Result<Void, any Error>?>(nil)
    func withLock<R>(_ body: (inout Result<Void, any Error>?) -> R) -> R { result.withLock { body(&$0) } }
}

/// How long a test request may take: a guard against a hang, not a speed target (a loaded
/// CI machine running every test at once is slow).
public let requestDeadline: TimeAmount = .seconds(30)
/// The same guard for a test collector's graceful shutdown.
let shutdownDeadline: Duration = .seconds(30)

/// POSTs `body` to the collector; returns status and answer.
public func post(_ baseURL: String, _ body: [UInt8], token: String?, encoding: String? = "zstd",
                 contentType: String? = nil) async throws -> (Int, String) {
    var request = HTTPClientRequest(url: baseURL + "/v1/batches")
    request.method = .POST
    if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
    if let encoding { request.headers.add(name: "Content-Encoding", value: encoding) }
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    request.body = .bytes(ByteBuffer(bytes: body))
    let response = try await HTTPClient.shared.execute(request, timeout: requestDeadline)
    return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
}

/// GETs `url` with the test reader's token (or `token`, or none when it is nil).
public func get(_ url: String, token: String? = readToken) async throws -> (Int, String) {
    var request = HTTPClientRequest(url: url)
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    let response = try await HTTPClient.shared.execute(request, timeout: requestDeadline)
    return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 16 << 20)))
}
