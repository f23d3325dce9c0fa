import Prometheus

/// The collector's own Prometheus metrics, served at `/metrics`.
public final class CollectorMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let batchesStored: Counter
    let batchesDuplicate: Counter
    let eventsStored: Counter
    let bytesReceived: Counter
    let bundlesReceived: Counter
    /// How long a batch waited for its store's answer (which is its acknowledgement's latency,
    /// less the network), and how long reads took.
    let storeWrites: DurationHistogram
    let storeReads: DurationHistogram

    public init() {
        batchesStored = registry.makeCounter(descriptor: Self.name("batches_stored", "Batches stored"))
        batchesDuplicate = registry.makeCounter(
            descriptor: Self.name("batches_duplicate", "Repeated batches acknowledged again, not stored twice"))
        eventsStored = registry.makeCounter(descriptor: Self.name("events_stored", "Lane events stored"))
        bytesReceived = registry.makeCounter(descriptor: Self.name("bytes_received", "Compressed batch bytes received"))
        bundlesReceived = registry.makeCounter(
            descriptor: Self.name("bundles_received", "Requests that carried a bundle of batches (a gateway draining a backlog)"))
        let buckets: [Duration] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000].map { .milliseconds($0) }
        storeWrites = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "lanegate", subsystem: "collector", metricName: "store_write",
                                             unitName: "seconds", helpText: "Time from a batch's arrival at the store to its answer"),
            buckets: buckets)
        storeReads = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "lanegate", subsystem: "collector", metricName: "store_read",
                                             unitName: "seconds", helpText: "Time a query's reads from the store took"),
            buckets: buckets)
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
