import LaneCollector
import LaneCollectorTestSupport
import LaneTestSupport
import Testing

/// The gateways kept in the store: registered once, accepted by every collector on the store.
@Suite("Gateway registry")
struct GatewayRegistryTests {
    @Test(arguments: StoreKind.allCases)
    func registersReplacesAndRemovesGateways(_ kind: StoreKind) async throws {
        try await withStore(kind) { (store: any EventStore) async throws in
            #expect(try await store.registeredGateways().isEmpty)
            try await store.register(GatewayCredential(gateway: "gw-b", token: "token-of-gateway-b-0123"))
            try await store.register(GatewayCredential(gateway: "gw-a", token: "token-of-gateway-a-0123"))
            try await store.register(GatewayCredential(gateway: "gw-cert", tokenDigest: nil))
            #expect(try await store.registeredGateways() == [
                GatewayCredential(gateway: "gw-a", token: "token-of-gateway-a-0123"),
                GatewayCredential(gateway: "gw-b", token: "token-of-gateway-b-0123"),
                GatewayCredential(gateway: "gw-cert", tokenDigest: nil)])

            // A new token replaces the old one; another gateway's token is refused, by name.
            try await store.register(GatewayCredential(gateway: "gw-a", token: "new-token-of-gateway-a"))
            await #expect(throws: GatewayRegistryError.tokenTaken(by: "gw-b")) {
                try await store.register(GatewayCredential(gateway: "gw-c", token: "token-of-gateway-b-0123"))
            }
            let tokens = GatewayTokens(credentials: try await store.registeredGateways())
            #expect(tokens.gateway(for: "new-token-of-gateway-a") == "gw-a")
            #expect(tokens.gateway(for: "token-of-gateway-a-0123") == nil)
            #expect(tokens.known == ["gw-a", "gw-b", "gw-cert"])

            #expect(try await store.unregister(gateway: "gw-b"))
            #expect(try await !store.unregister(gateway: "gw-b"))
            #expect(try await store.registeredGateways().map(\.gateway) == ["gw-a", "gw-cert"])
        }
    }

    /// A collector serving from the registry accepts a gateway registered after it started on
    /// that gateway's first try, and refuses a removed one within its refresh time.
    @Test(arguments: StoreKind.allCases)
    func aCollectorFollowsTheRegistry(_ kind: StoreKind) async throws {
        try await withStore(kind) { (store: any EventStore) async throws in
            try await store.register(GatewayCredential(gateway: "gw-a", token: tokenA))
            let directory = GatewayDirectory(registryOf: store, registered: try await store.registeredGateways(),
                                             maxAge: .milliseconds(300), missInterval: .milliseconds(50), logger: quietLogger)
            try await withCollector(store: store, gateways: directory) { url, _ in
                #expect(try await post(url, encodedBatch(gateway: "gw-a", sequence: 1), token: tokenA).0 == 200)
                #expect(try await post(url, encodedBatch(gateway: "gw-b", sequence: 1), token: tokenB).0 == 401)

                try await store.register(GatewayCredential(gateway: "gw-b", token: tokenB))
                try await Task.sleep(for: .milliseconds(60))
                #expect(try await post(url, encodedBatch(gateway: "gw-b", sequence: 1), token: tokenB).0 == 200,
                        "registered after the collector started: accepted on its first try")

                #expect(try await store.unregister(gateway: "gw-a"))
                try await Task.sleep(for: .milliseconds(400))
                #expect(try await post(url, encodedBatch(gateway: "gw-a", sequence: 2), token: tokenA).0 == 401,
                        "removed: refused once the collector's list is older than its refresh time")
                #expect(try await post(url, encodedBatch(gateway: "gw-b", sequence: 2), token: tokenB).0 == 200)
            }
            #expect(try await store.eventCount(gateway: nil) == 15)
        }
    }
}
