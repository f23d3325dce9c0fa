import Benchmark

let benchmarks: @Sendable () -> Void = {
    ringBenchmarks()
    pipelineBenchmarks()
    spoolBenchmarks()
    journalBenchmarks()
    deviceBenchmarks()
    borderDelayBenchmarks()
}
