import Benchmark
import Foundation
import LaneAnalytics
import LaneCollector
import LanePostgres
import Logging

/// The border-delay day from a PostgreSQL store: with LANEGATE_BENCH_POSTGRES set to a
/// migrated, empty database's URL (Benchmarks/collector-load.sh shows how to start a server
/// of one's own), the busy port's day is stored there as its gateways would deliver it, and
/// recomputed through the API's path. Without it, these benchmarks are left out.
func postgresBorderDelayBenchmarks(port: PortLayout) {
    guard let url = ProcessInfo.processInfo.environment["LANEGATE_BENCH_POSTGRES"] else { return }
    nonisolated(unsafe) var analytics: PortAnalytics?
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock], timeUnits: .milliseconds, maxDuration: .seconds(30), maxIterations: 10,
        setup: {
            guard analytics == nil else { return }
            let store = PostgresEventStore(location: try PostgresLocation(url: url), logger: Logger(label: "bench"))
            Task { try await store.run() }
            let (_, simulated) = busyPort.run()
            try await storeDay(busyPort, visits: simulated, into: store)
            analytics = PortAnalytics(ports: [port], store: store)
        })
    storeBenchmarks("PostgreSQL", port: port, configuration: configuration) { analytics }
}
