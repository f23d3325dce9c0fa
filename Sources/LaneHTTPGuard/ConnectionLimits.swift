import NIOCore

/// How long a connection may take over each part of a request, and how many may be open.
/// Without these, idle or slow clients hold sockets until the process runs out of them and no
/// gateway gets in.
public struct ConnectionLimits: Sendable, Hashable {
    /// Open connections at most. A new one beyond it closes the connection idle the longest; when
    /// every connection is busy with a request, the new one is closed instead.
    public var maxConnections = 4096
    /// From connecting to a complete request head. A client sending a byte a second is cut off.
    public var headerTimeout: TimeAmount = .seconds(10)
    /// From the request head to the end of its body (4 MiB at 35 kB/s).
    public var bodyTimeout: TimeAmount = .seconds(120)
    /// Between requests on a kept-alive connection.
    public var idleTimeout: TimeAmount = .seconds(60)

    public init() {}
}
