import Benchmark
import Foundation
import LaneSpool

/// One iteration is one commit of a batch the size the default window makes on the benchmark
/// trace (about 46 events, 700 bytes), at the default durability (`synchronous=FULL`: fsync
/// per commit). Percentiles of the wall clock are the commit latency; throughput is commits/s.
func spoolBenchmarks() {
    nonisolated(unsafe) var spool: Spool?
    nonisolated(unsafe) var body: [UInt8] = []
    Benchmark("spool commit, 700 B batch, durability full",
              configuration: .init(metrics: [.wallClock, .throughput], timeUnits: .microseconds,
                                   maxDuration: .seconds(20), maxIterations: 5000,
                                   setup: {
                                       let directory = NSTemporaryDirectory() + "lanegate-bench-\(UUID().uuidString)"
                                       try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                                       spool = Spool(path: directory + "/spool.db", gatewayID: "bench",
                                                     settings: SpoolSettings(minFreeDiskBytes: 0), nowUTC: 0)
                                       var generator = SystemRandomNumberGenerator()
                                       body = (0..<700).map { _ in UInt8.random(in: 0...255, using: &generator) }
                                   })) { benchmark in
        guard let spool else { return }
        for _ in benchmark.scaledIterations {
            spool.commit(SpooledBatch(sequence: spool.nextSequence, priority: false, events: 46, createdUTC: 0, body: body))
        }
    }
}

/// What journaling every pass costs the pipeline thread: one journal group (a tag arrival's
/// worth, 60 bytes uncompressed) written to the kernel without an fsync, and the fsync that
/// makes the groups of the last second durable. The daemon pays the first on every pass that
/// made events (at most 50 a second), the second once a second.
func journalBenchmarks() {
    nonisolated(unsafe) var spool: Spool?
    let group = [UInt8](repeating: 0x5a, count: 60)
    func open() throws {
        let directory = NSTemporaryDirectory() + "lanegate-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        spool = Spool(path: directory + "/spool.db", gatewayID: "bench", settings: SpoolSettings(minFreeDiskBytes: 0), nowUTC: 0)
    }
    Benchmark("spool journal group, written to the kernel (no fsync)",
              configuration: .init(metrics: [.wallClock, .throughput], timeUnits: .microseconds,
                                   maxDuration: .seconds(10), maxIterations: 20_000, setup: { try open() })) { benchmark in
        guard let spool else { return }
        for _ in benchmark.scaledIterations { spool.journal(events: 1, body: group, nowUTC: 0) }
    }
    Benchmark("spool journal group + the once-a-second sync (fsync)",
              configuration: .init(metrics: [.wallClock, .throughput], timeUnits: .microseconds,
                                   maxDuration: .seconds(10), maxIterations: 2_000, setup: { try open() })) { benchmark in
        guard let spool else { return }
        for _ in benchmark.scaledIterations {
            spool.journal(events: 1, body: group, nowUTC: 0)
            spool.syncJournal(nowUTC: 0)
        }
    }
}
