import Prometheus

/// The collector's own Prometheus metrics, served at `/metrics`.
public final class CollectorMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let batchesStored: Counter
    let batchesDuplicate: Counter
    let eventsStored: Counter
    let bytesReceived: Counter

    public init() {
        batchesStored = registry.makeCounter(descriptor: Self.name("batches_stored", "Batches stored"))
        batchesDuplicate = registry.makeCounter(
            descriptor: Self.name("batches_duplicate", "Repeated batches acknowledged again, not stored twice"))
        eventsStored = registry.makeCounter(descriptor: Self.name("events_stored", "Lane events stored"))
        bytesReceived = registry.makeCounter(descriptor: Self.name("bytes_received", "Compressed batch bytes received"))
    }

    private static func name(_ metric: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "lanegate", subsystem: "collector", metricName: metric, unitName: "total", helpText: help)
    }

    /// A request refused with `status`, for `reason` (a short fixed label).
    func rejected(status: Int, reason: String) {
        registry.makeCounter(descriptor: Self.name("batches_rejected", "Batches refused, by HTTP status and reason"),
                             labels: [("status", String(status)), ("reason", reason)]).increment()
    }
}
