/// Runs synchronous test work that holds its thread for long on a thread of its own (see
/// ``onItsOwnThread(_:)``): CPU-heavy work (encoding 65 535 events or simulating a port's day
/// takes seconds in a debug build), or a program waited for (initdb, pg_ctl, openssl).
public func offThePool<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
    try await onItsOwnThread { () throws(E) -> T in try work() }
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
