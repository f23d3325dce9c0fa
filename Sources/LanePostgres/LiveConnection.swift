import LaneCollector
import Logging
import PostgresNIO
import Prometheus

extension PostgresClient {
    /// Runs `body` on a pooled connection, and gives up on it when that connection closes.
    /// PostgresNIO 1.33 writes a query to its channel without a promise for the write, so a
    /// query sent on a connection that has just closed (a server that restarted) waits for an
    /// answer forever; the connection's close is the one signal that still comes. `leases`
    /// counts the connections in use.
    func withLiveConnection<T: Sendable>(leases: Gauge? = nil,
                                         _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            leases?.increment()
            defer { leases?.decrement() }
            return try await firstOf({ try await body(connection) }) { interrupt in
                connection.closeFuture.whenComplete { _ in interrupt(StoreUnavailableError("the connection to the database closed")) }
            }
        }
    }

    /// `body` in a transaction on a live connection (see ``withLiveConnection(leases:_:)``).
    func withLiveTransaction<T: Sendable>(logger: Logger, leases: Gauge? = nil,
                                          _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await withLiveConnection(leases: leases) { connection in
            try await connection.withTransaction(logger: logger) { try await body($0) }
        }
    }
}
