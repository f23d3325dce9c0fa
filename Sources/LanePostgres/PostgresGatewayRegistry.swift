import LaneCollector
import NIOCore
import PostgresNIO

/// The gateway registry on PostgreSQL: one table every collector on the database reads, so that
/// a gateway added or removed once is added or removed at all of them.
extension PostgresEventStore {
    public func registeredGateways() async throws -> [GatewayCredential] {
        try await reading { [logger] connection in
            var out: [GatewayCredential] = []
            let rows = try await connection.query("SELECT gateway, token_sha256 FROM gateway_credentials ORDER BY gateway", logger: logger)
            for try await (gateway, digest) in rows.decode((String, ByteBuffer?).self) {
                out.append(GatewayCredential(gateway: gateway, tokenDigest: digest.map { Array($0.readableBytesView) }))
            }
            return out
        }
    }

    public func register(_ credential: GatewayCredential) async throws {
        let digest = credential.tokenDigest.map { ByteBuffer(bytes: $0) }
        let owner: String? = try await reading(inTransaction: true) { [logger] connection in
            if let digest {
                let taken = try await connection.query(
                    "SELECT gateway FROM gateway_credentials WHERE token_sha256 = \(digest) AND gateway <> \(credential.gateway)",
                    logger: logger)
                for try await other in taken.decode(String.self) { return other }
            }
            try await connection.query("""
                INSERT INTO gateway_credentials(gateway, token_sha256) VALUES (\(credential.gateway), \(digest))
                ON CONFLICT (gateway) DO UPDATE SET token_sha256 = EXCLUDED.token_sha256, registered_at = now()
                """, logger: logger)
            return nil
        }
        if let owner { throw GatewayRegistryError.tokenTaken(by: owner) }
    }

    public func unregister(gateway: String) async throws -> Bool {
        try await reading { [logger] connection in
            let removed = try await connection.query("DELETE FROM gateway_credentials WHERE gateway = \(gateway) RETURNING 1", logger: logger)
            for try await _ in removed { return true }
            return false
        }
    }
}
