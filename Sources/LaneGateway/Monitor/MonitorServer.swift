import FoundationEssentials
import Logging
import NIOCore
import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's side of `lanegate monitor`: a unix socket (mode 0660, so the daemon's group,
/// `lanegate`, may connect) that writes a ``MonitorSnapshot`` as one JSON line to each client
/// every `interval` until it hangs up. Clients send nothing. One snapshot per interval is made
/// and shared by every client, so several monitors cost the daemon what one does.
public final class MonitorServer: Sendable {
    public let path: String
    public let interval: Duration
    /// More monitors than this at once are turned away with a line saying so.
    public let maxClients: Int
    private let makeSnapshot: @Sendable () async -> MonitorSnapshot
    private let logger: Logger
    private let cache = Mutex<(made: ContinuousClock.Instant, line: ByteBuffer)?>(nil)
    private let clients = Atomic<Int>(0)

    public init(path: String, interval: Duration = .milliseconds(250), maxClients: Int = 8, logger: Logger,
                snapshot: @escaping @Sendable () async -> MonitorSnapshot) {
        self.path = path
        self.interval = interval
        self.maxClients = maxClients
        self.logger = logger
        self.makeSnapshot = snapshot
    }

    /// Serves until cancelled, then removes the socket. A socket that cannot be made is logged,
    /// not fatal: the gateway's work does not depend on it.
    public func run() async {
        do {
            // Bound under a temporary name and renamed once its mode is set, so the socket never
            // shows at its path with the umask's mode.
            let staging = path + ".\(getpid()).new"
            let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(unixDomainSocketPath: staging, cleanupExistingSocketFile: true) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            defer { unlink(path) }
            guard chmod(staging, 0o660) == 0, rename(staging, path) == 0 else {
                logger.error("monitor: cannot set mode 0660 on \(path) and put it in place: \(String(cString: strerror(errno)))")
                unlink(staging)
                try? await server.channel.close()
                return
            }
            logger.info("monitor socket \(path)")
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await client in inbound {
                        group.addTask { await self.serve(client) }
                    }
                }
            }
        } catch is CancellationError {
        } catch {
            logger.error("monitor: cannot serve on \(path): \(error)")
        }
    }

    private func serve(_ client: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let admitted = clients.add(1, ordering: .relaxed).newValue <= maxClients
        defer { clients.subtract(1, ordering: .relaxed) }
        try? await client.executeThenClose { _, outbound in
            guard admitted else {
                try await outbound.write(ByteBuffer(string: "{\"error\":\"\(maxClients) monitors are already connected\"}\n"))
                return
            }
            while !Task.isCancelled {
                try await outbound.write(await line())
                try await Task.sleep(for: interval)
            }
        }
    }

    /// The current snapshot as a JSON line, made at most once per interval.
    private func line() async -> ByteBuffer {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0 }), now - cached.made < interval / 5 * 4 { return cached.line }
        let snapshot = await makeSnapshot()
        var bytes: [UInt8]
        do { bytes = Array(try JSONEncoder().encode(snapshot)) } catch {
            let reason = String(describing: error).filter { $0 != "\"" && $0 != "\\" && $0 != "\n" }
            bytes = Array("{\"error\":\"the snapshot could not be encoded: \(reason)\"}".utf8)
        }
        bytes.append(UInt8(ascii: "\n"))
        let line = ByteBuffer(bytes: bytes)
        cache.withLock { $0 = (now, line) }
        return line
    }
}
