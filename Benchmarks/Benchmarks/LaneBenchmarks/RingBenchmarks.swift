import Benchmark
import DequeModule
import Foundation
import LaneCore
import Synchronization

/// One iteration is one whole workload; items per second = 50 M / wall clock.
/// The workload the ring is specified against: 32-byte elements, capacity 4096, one producer
/// thread and one consumer thread, 50 million items per run.
struct Element32: BitwiseCopyable {
    var a: UInt64, b: UInt64, c: UInt64, d: UInt64
}

let ringItems = 50_000_000
let ringCapacity = 4096

func ringBenchmarks() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .milliseconds, maxDuration: .seconds(60), maxIterations: 5)

    Benchmark("SPSC ring, 50M × 32 B, capacity 4096", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            let ring = SPSCRing<Element32>(capacity: ringCapacity)
            let producer = ProducerThread(RingProducer(ring))
            var consumer = RingConsumer(ring)
            producer.start()
            var received = 0
            var checksum: UInt64 = 0
            while received < ringItems {
                received &+= consumer.popBatch(limit: 512) { checksum &+= $0.a }
            }
            producer.join()
            precondition(checksum == UInt64(ringItems) * UInt64(ringItems - 1) / 2, "ring lost or reordered items")
            blackHole(checksum)
        }
    }

    // The plain locked queue: every push and every pop takes the lock once.
    Benchmark("Mutex<Deque>, 50M × 32 B, bound 4096, one pop per lock", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            let queue = LockedQueue()
            let thread = Thread { queue.produce() }
            thread.start()
            var received = 0
            var checksum: UInt64 = 0
            while received < ringItems {
                if let e = queue.deque.withLock({ $0.popFirst() }) {
                    checksum &+= e.a
                    received += 1
                }
            }
            queue.done.wait()
            precondition(checksum == UInt64(ringItems) * UInt64(ringItems - 1) / 2, "deque lost items")
            blackHole(checksum)
        }
    }

    // The locked queue at its best: the consumer drains up to 512 items per lock, as the ring does.
    Benchmark("Mutex<Deque>, 50M × 32 B, bound 4096, batched pops", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            let queue = LockedQueue()
            let thread = Thread { queue.produce() }
            thread.start()
            var received = 0
            var checksum: UInt64 = 0
            while received < ringItems {
                queue.deque.withLock { d in
                    var n = 0
                    while n < 512, let e = d.popFirst() {
                        checksum &+= e.a
                        n += 1
                    }
                    received += n
                }
            }
            queue.done.wait()
            precondition(checksum == UInt64(ringItems) * UInt64(ringItems - 1) / 2, "deque lost items")
            blackHole(checksum)
        }
    }
}

final class LockedQueue: @unchecked Sendable {
    let deque = Mutex(Deque<Element32>(minimumCapacity: ringCapacity))
    let done = DispatchSemaphore(value: 0)

    /// Pushes 0 ..< ringItems, one lock per push, retrying while the queue holds `ringCapacity`.
    func produce() {
        var i = 0
        while i < ringItems {
            let pushed = deque.withLock { d -> Bool in
                guard d.count < ringCapacity else { return false }
                d.append(Element32(a: UInt64(i), b: 0, c: 0, d: 0))
                return true
            }
            if pushed { i += 1 }
        }
        done.signal()
    }
}

/// Runs the producer end on its own thread: pushes 0 ..< ringItems, retrying when full.
final class ProducerThread: @unchecked Sendable {
    private var producer: RingProducer<Element32>?
    private let done = DispatchSemaphore(value: 0)

    init(_ producer: consuming RingProducer<Element32>) { self.producer = .some(producer) }

    func start() {
        Thread { [self] in
            var p = producer.take()!
            var i = 0
            while i < ringItems {
                if p.push(Element32(a: UInt64(i), b: 0, c: 0, d: 0)) { i &+= 1 }
            }
            done.signal()
        }.start()
    }

    func join() { done.wait() }
}
