import Prometheus

/// What the team running the collectors watches of the database side: how many batches wait for
/// the writer, how many go in each transaction and how long one takes, and how busy the pool is.
/// A queue that keeps growing, or transactions that grow slow, show a database falling behind
/// before gateways see 503s.
final class PostgresStoreMetrics: Sendable {
    let queuedBatches: Gauge
    let groupBatches: ValueHistogram
    let transactions: DurationHistogram
    let connectionsInUse: Gauge

    init(registry: PrometheusCollectorRegistry, connections: Int) {
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "lanegate", subsystem: "collector_postgres", metricName: metric, unitName: unit, helpText: help)
        }
        queuedBatches = registry.makeGauge(descriptor: name("queued", "batches", "Batches waiting for this collector's writer"))
        groupBatches = registry.makeValueHistogram(
            descriptor: name("group", "batches", "Batches stored per transaction (group commit)"),
            buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000])
        transactions = registry.makeDurationHistogram(
            descriptor: name("transaction", "seconds", "Time one group's transaction took, lock wait included"),
            buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000].map { .milliseconds($0) })
        connectionsInUse = registry.makeGauge(descriptor: name("connections_in_use", "", "Pooled connections leased now"))
        registry.makeGauge(descriptor: name("connections", "", "Pooled connections at most")).set(Double(connections))
    }
}
