import Hummingbird
import LaneCore

/// The webhook queue for the team running the collector (admin tokens only): what is waiting,
/// what was delivered, the dead letters, and sending a webhook's dead letters again once its
/// receiver is mended.
extension Collector {
    func addWebhookRoutes(to router: Router<CollectorContext>) {
        router.get("/v1/webhooks/deliveries") { request, context in
            try await reading(request, context) { reader in try await deliveryList(request, reader) }
        }
        router.post("/v1/webhooks/:name/retry") { request, context in
            try await reading(request, context) { reader in try await retryDead(context.parameters.get("name") ?? "", reader) }
        }
    }

    private func deliveryList(_ request: Request, _ reader: Reader) async throws -> Response {
        guard reader.scope == .admin else { return forbidden(reader, "webhook deliveries") }
        let p = request.uri.queryParameters
        guard let state = AlarmDelivery.State(rawValue: String(p["state"] ?? "dead")) else {
            return badQuery("state must be one of \(AlarmDelivery.State.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let limit = Int(p["limit"] ?? "1000"), (1...10_000).contains(limit) else { return badQuery("limit must be 1 to 10000") }
        let found = try await store.deliveries(state, limit: limit)
        return json(.ok, "{\"state\":\"\(state.rawValue)\",\"deliveries\":[\(found.map(\.json).joined(separator: ","))]}\n")
    }

    private func retryDead(_ name: String, _ reader: Reader) async throws -> Response {
        guard reader.scope == .admin else { return forbidden(reader, "webhook deliveries") }
        guard webhooks.webhooks.contains(where: { $0.name == name }) else {
            return refuse(.notFound, "webhook", "no webhook \"\(name)\" is configured")
        }
        let requeued = try await store.retryDeadDeliveries(webhook: name, now: ClockAnchor.now().utcNanoseconds)
        alarms.wakeAll()
        return json(.ok, "{\"webhook\":\(jsonQuoted(name)),\"requeued\":\(requeued)}\n")
    }
}
