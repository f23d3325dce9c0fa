import Logging

/// Whom the collector accepts batches from: the gateways of a token file, fixed, or those
/// registered in the store, which every collector on the store shares.
///
/// The registry is read again when the last reading is older than `maxAge` (a removed gateway
/// is refused within that time), and at once on an unknown token or certificate (a gateway
/// added a moment ago is accepted on its first try), but not more often than `missInterval`
/// (a second): a flood of bad tokens costs one query a second. A store that cannot be read leaves the last list in
/// force, as a collector cannot accept batches without the store anyway.
public actor GatewayDirectory {
    private let store: (any EventStore)?
    private let maxAge: Duration
    private let missInterval: Duration
    private let logger: Logger
    private var tokens: GatewayTokens
    private var loaded = ContinuousClock.now
    private var lastAttempt = ContinuousClock.now
    private var refreshing: Task<[GatewayCredential]?, Never>?

    /// The gateways of a token file: the list is fixed.
    public init(fixed tokens: GatewayTokens) {
        self.tokens = tokens
        store = nil
        maxAge = .seconds(15)
        missInterval = .seconds(1)
        logger = Logger(label: "lanegate.collector.gateways")
    }

    /// The gateways registered in `store`, starting from `registered` (the registry as read at start).
    public init(registryOf store: any EventStore, registered: [GatewayCredential], maxAge: Duration = .seconds(15),
                missInterval: Duration = .seconds(1), logger: Logger) {
        tokens = GatewayTokens(credentials: registered)
        self.store = store
        self.maxAge = maxAge
        self.missInterval = missInterval
        lastAttempt = .now - missInterval
        self.logger = logger
    }

    /// The gateway whose bearer token this is, if any.
    public func gateway(forToken token: String) async -> String? {
        await lookUp { $0.gateway(for: token) }
    }

    /// Whether a client certificate's name is a known gateway.
    public func isKnown(_ gateway: String) async -> Bool {
        await lookUp { $0.known.contains(gateway) ? true : nil } ?? false
    }

    /// The gateways known now.
    public var known: Set<String> { tokens.known }

    private func lookUp<T>(_ find: (GatewayTokens) -> T?) async -> T? {
        if store != nil, ContinuousClock.now - loaded > maxAge { await refresh() }
        if let found = find(tokens) { return found }
        guard store != nil else { return nil }
        await refresh()
        return find(tokens)
    }

    /// Reads the registry again, unless the last attempt was under `missInterval` ago; callers that
    /// arrive while a reading is under way wait for that one.
    private func refresh() async {
        if let running = refreshing {
            _ = await running.value
            return
        }
        guard let store, ContinuousClock.now - lastAttempt >= missInterval else { return }
        lastAttempt = .now
        let reading = Task { [logger] () -> [GatewayCredential]? in
            do { return try await store.registeredGateways() } catch {
                logger.warning("the gateway registry could not be read, the last list stays in force: \(error)")
                return nil
            }
        }
        refreshing = reading
        if let credentials = await reading.value {
            tokens = GatewayTokens(credentials: credentials)
            loaded = .now
        }
        refreshing = nil
    }
}
