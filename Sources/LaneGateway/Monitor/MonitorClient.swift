import FoundationEssentials
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// `lanegate monitor`'s side of the daemon's monitor socket: reads its JSON lines as snapshots.
public struct MonitorClient: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        /// Nothing listens there: the daemon is stopped (or was started without a monitor socket).
        case noDaemon(String)
        /// The socket exists but this user may not connect.
        case notAllowed(String)
        /// The daemon answered with something that is not a snapshot.
        case badLine(String)

        public var description: String {
            switch self {
            case .noDaemon(let why): why
            case .notAllowed(let path):
                "\(path) is for group lanegate: sudo usermod -aG lanegate $USER, then log in again (or run the monitor with sudo)"
            case .badLine(let why): why
            }
        }
    }

    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    /// Connects to the daemon's socket at `path`.
    public static func connect(path: String) async throws(Failure) -> MonitorClient {
        guard access(path, F_OK) == 0 else {
            // A directory this user may not enter (/run/lanegate is 0750) hides the socket.
            if errno == EACCES { throw .notAllowed(path) }
            throw .noDaemon("no daemon socket at \(path)")
        }
        guard access(path, R_OK | W_OK) == 0 else { throw .notAllowed(path) }
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            return MonitorClient(channel: channel)
        } catch {
            // A socket file nobody accepts on is what a daemon that did not stop cleanly leaves.
            throw .noDaemon("nothing answers at \(path) (\(error))")
        }
    }

    /// Hands each snapshot to `body` until it returns false or the daemon hangs up.
    public func read(_ body: (MonitorSnapshot) async throws -> Bool) async throws {
        try await channel.executeThenClose { inbound, _ in
            var pending = ByteBuffer()
            let decoder = JSONDecoder()
            for try await var chunk in inbound {
                pending.writeBuffer(&chunk)
                while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                    let length = newline - pending.readerIndex
                    guard let line = pending.readBytes(length: length) else { break }
                    pending.moveReaderIndex(forwardBy: 1)
                    guard let snapshot = try? decoder.decode(MonitorSnapshot.self, from: Data(line)) else {
                        throw Failure.badLine("the daemon sent: \(String(decoding: line.prefix(300), as: UTF8.self))")
                    }
                    if try await !body(snapshot) { return }
                }
                pending.discardReadBytes()
            }
        }
    }
}
