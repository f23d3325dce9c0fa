import Benchmark
import LaneCore
import LaneSimulators
import LaneWire

/// One iteration is one pass over the whole trace; reads per second = trace size / wall clock.
/// Dedup + batching + encoding, one core, over the specified trace shape: about 5 million raw
/// reads, 2,000 distinct tags, 8 read points (4 lanes × upstream and booth).
let traffic = BoothTraffic(seed: 2026, lanes: 4, vehicles: 2500, distinctTags: 2000)
nonisolated(unsafe) var trace: [Detection] = []

func pipelineBenchmarks() {
    Benchmark("dedup + encode, ~5M reads, 2000 tags, 8 read points",
              configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
                                   timeUnits: .milliseconds, maxDuration: .seconds(120), maxIterations: 3,
                                   setup: { if trace.isEmpty { trace = traffic.generate().detections } })) { benchmark in
        for _ in benchmark.scaledIterations {
            let layout = traffic.layout
            let pipeline = LanePipeline(layout: layout)
            var batcher = Batcher()
            let encoder = BatchEncoder(gatewayID: "bench-gw", layout: layout)
            var events: [LaneEvent] = []
            events.reserveCapacity(256)
            var wireBytes = 0
            let anchor = ClockAnchor.now()
            benchmark.startMeasurement()
            for detection in trace {
                pipeline.process(detection, into: &events)
                if !events.isEmpty {
                    let now = pipeline.now!
                    for event in events {
                        batcher.add(event, now: now)
                        if batcher.isDue(now: now), let batch = batcher.close(now: now, counters: pipeline.counters, anchor: anchor) {
                            wireBytes += encoder.encode(batch).count
                        }
                    }
                    events.removeAll(keepingCapacity: true)
                }
            }
            pipeline.finish(into: &events)
            benchmark.stopMeasurement()
            blackHole(wireBytes)
        }
    }
}
