import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTLS
import LaneAnalytics
import LaneCollector
import LaneCore
import LaneSpool
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
/// in NIO (apple/swift-nio#2813), so cancellation is only the fallback after 15 s. A server that
/// will not stop even then is an error, and is left behind rather than left to hang the run.
public func withCollector<T: Sendable>(
    store: (any EventStore)? = nil, port: Int = 0, tls: TLSConfiguration? = nil,
    settings: CollectorSettings = CollectorSettings(), limits: ConnectionLimits = ConnectionLimits(),
    gatewayTokens: GatewayTokens = tokens, gateways: GatewayDirectory? = nil, ports: [PortLayout] = [],
    transitRoutes: [TransitRoute] = [],
    readAccess: ReadAccess = .tokens(readers), predatesBundles: Bool = false,
    _ body: @Sendable (_ baseURL: String, _ collector: Collector) async throws -> T
) async throws -> T {
    let store = try store ?? SQLiteEventStore(path: temporaryDirectory() + "/events.db")
    let collector = Collector(store: store, gateways: gateways ?? GatewayDirectory(fixed: gatewayTokens), readAccess: readAccess,
                              ports: ports, transitRoutes: transitRoutes, settings: settings, logger: quietLogger)
    let (bound, announce) = AsyncStream.makeStream(of: Int.self)
    let running: @Sendable (any Channel) async -> Void = { channel in announce.yield(channel.localAddress!.port!) }
    let app: any Service = predatesBundles
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
    let stopped = await eventually(within: .seconds(15)) { ended.withLock { $0 } != nil }
    if !stopped {
        serving.cancel()
        _ = await eventually(within: .seconds(5)) { ended.withLock { $0 } != nil }
    }
    let value = try outcome.get()
    guard stopped else { throw CollectorSetupError("the test collector did not stop within 15 s of a graceful shutdown") }
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

/// How the test collector's server ended, once it has.
private final class ServerEnd: Sendable {
    private let result = Mutex<Result<Void, any Error>?>(nil)
    func withLock<R>(_ body: (inout Result<Void, any Error>?) -> R) -> R { result.withLock { body(&$0) } }
}

public let layout = LaneLayout(
    devices: [.init(name: "rfid-a", kind: .rfid), .init(name: "loops", kind: .loops)],
    readPoints: [.init(name: "lane1/booth", lane: "lane1", antennas: [.init(device: DeviceIndex(0), port: 1)])],
    loops: [.init(name: "lane1/loop-a", lane: "lane1", device: DeviceIndex(1), line: 0)])

public let anchor = ClockAnchor(monotonic: .zero, utcNanoseconds: 1_763_900_000_000_000_000, sync: .synchronized,
                         maxErrorMicros: 800, estimatedErrorMicros: 100)

/// A compressed batch of `count` events (tag arrivals and vehicles) from `gateway`.
public func encodedBatch(gateway: String, sequence: UInt64, count: Int = 5, priority: Bool = false) -> [UInt8] {
    let events: [LaneEvent] = (0..<count).map { i in
        let t = MonotonicInstant(nanoseconds: Int64(sequence) * 60_000_000_000 + Int64(i) * 1_000_000_000)
        return i % 2 == 0
            ? .tagArrived(TagArrival(readPoint: 0, tag: TagID(hex: String(format: "30%022x", i))!, time: t, peakRSSI: -55, antennas: 1))
            : .vehicle(VehiclePassage(loop: 0, onTime: t.advanced(by: -400_000_000), offTime: t))
    }
    let batch = EventBatch(sequence: sequence, events: events, counters: nil, anchor: anchor, priority: priority)
    return BatchEncoder(gatewayID: gateway, layout: layout).encode(batch)
}

/// Runs synchronous test work that holds its thread for long on a thread of its own (see
/// ``onItsOwnThread(_:)``): CPU-heavy work (encoding 65 535 events or simulating a port's day
/// takes seconds in a debug build), or a program waited for (initdb, pg_ctl, openssl).
public func offThePool<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
    try await onItsOwnThread { () throws(E) -> T in try work() }
}

/// How long a test request may take: a guard against a hang, not a speed target (a loaded
/// CI machine running every test at once is slow).
public let requestDeadline: TimeAmount = .seconds(30)

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

/// Waits (polling) until `condition` holds or `seconds` pass; returns whether it held.
public func eventually(_ seconds: Double = 20, _ condition: () async throws -> Bool) async rethrows -> Bool {
    try await eventually(within: .milliseconds(Int64(seconds * 1000)), condition)
}

/// Waits (polling) until `condition` holds or `limit` passes; returns whether it held.
public func eventually(within limit: Duration, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// A self-signed certificate for 127.0.0.1 made by the openssl tool: (certificate, key) paths.
public func selfSignedCertificate(in directory: String) async throws -> (String, String) {
    try await offThePool { () throws -> (String, String) in try makeSelfSignedCertificate(in: directory) }
}

private func makeSelfSignedCertificate(in directory: String) throws -> (String, String) {
    let cert = directory + "/cert.pem", key = directory + "/key.pem"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=lanegate-test-collector",
                         "-addext", "subjectAltName=IP:127.0.0.1"]
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw CollectorSetupError("openssl failed") }
    return (cert, key)
}

/// A test PKI made with the openssl tool: a CA, a server certificate for 127.0.0.1, and client
/// certificates whose common names are gateway ids. Returns the PEM paths by name
/// ("ca", "server", "server.key", "<gateway>", "<gateway>.key").
public func testPKI(in directory: String, gateways: [String]) async throws -> [String: String] {
    try await offThePool { () throws -> [String: String] in try makeTestPKI(in: directory, gateways: gateways) }
}

private func makeTestPKI(in directory: String, gateways: [String]) throws -> [String: String] {
    func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CollectorSetupError("openssl \(arguments.first!) failed") }
    }
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    var paths = ["ca": directory + "/ca.pem"]
    try openssl(["req", "-x509"] + ec + ["-keyout", directory + "/ca.key", "-out", paths["ca"]!, "-days", "2", "-subj", "/CN=lanegate-test-ca"])
    func issue(_ name: String, subject: String, extensions: String) throws {
        let ext = directory + "/\(name).ext"
        try Data(extensions.utf8).write(to: URL(fileURLWithPath: ext))
        try openssl(["req"] + ec + ["-keyout", directory + "/\(name).key", "-out", directory + "/\(name).csr", "-subj", subject])
        try openssl(["x509", "-req", "-in", directory + "/\(name).csr", "-CA", paths["ca"]!, "-CAkey", directory + "/ca.key",
                     "-CAcreateserial", "-out", directory + "/\(name).pem", "-days", "2", "-extfile", ext])
        paths[name] = directory + "/\(name).pem"
        paths[name + ".key"] = directory + "/\(name).key"
    }
    try issue("server", subject: "/CN=lanegate-test-collector", extensions: "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    for gateway in gateways {
        try issue(gateway, subject: "/CN=\(gateway)", extensions: "extendedKeyUsage=clientAuth\n")
    }
    return paths
}
