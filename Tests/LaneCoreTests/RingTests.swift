import Foundation
import LaneCore
import Testing

@Suite("SPSC ring")
struct RingTests {
    @Test func detectionFitsOneCacheLine() {
        #expect(MemoryLayout<Detection>.stride <= 64)
        #expect(_isPOD(Detection.self))
    }

    @Test func popsInOrderAcrossWraparound() {
        let ring = SPSCRing<Int>(capacity: 4)
        var producer = RingProducer(ring)
        var consumer = RingConsumer(ring)
        var expected = 0
        for round in 0..<10 {
            for i in 0..<3 {
                let pushed = producer.push(round * 3 + i)
                #expect(pushed)
            }
            for _ in 0..<3 {
                #expect(consumer.pop() == expected)
                expected += 1
            }
        }
        #expect(consumer.pop() == nil)
    }

    @Test func fullRingDropsAndCountsInsteadOfBlocking() {
        let ring = SPSCRing<Int>(capacity: 8)
        var producer = RingProducer(ring)
        var consumer = RingConsumer(ring)
        var accepted: [Int] = []
        for i in 0..<20 where producer.push(i) { accepted.append(i) }
        #expect(accepted == Array(0..<8))
        #expect(consumer.takeDrops() == 12)
        #expect(consumer.takeDrops() == 0, "drops are reported once")
        var seen: [Int] = []
        #expect(consumer.popBatch(limit: 5) { seen.append($0) } == 5)
        #expect(consumer.popBatch(limit: 100) { seen.append($0) } == 3)
        #expect(seen == Array(0..<8))
        let pushedAfterDraining = producer.push(99)
        #expect(pushedAfterDraining)
        #expect(consumer.pop() == 99)
    }

    @Test func rejectsCapacityThatIsNotAPowerOfTwo() async {
        await #expect(processExitsWith: .failure) {
            _ = SPSCRing<Int>(capacity: 6)
        }
    }

    @Test func aSecondProducerCannotBeClaimed() async {
        await #expect(processExitsWith: .failure) {
            let ring = SPSCRing<Int>(capacity: 8)
            let first = RingProducer(ring)
            let second = RingProducer(ring)
            _ = consume first
            _ = consume second
        }
    }

    /// Two real threads, millions of items: everything pushed arrives once, in order, and every
    /// push the ring refused is counted.
    @Test func twoThreadsMillionsOfItemsInOrderAndComplete() throws {
        let total = 3_000_000
        let ring = SPSCRing<UInt64>(capacity: 1024)
        let producerEnd = ProducerBox(RingProducer(ring))
        var consumer = RingConsumer(ring)
        let thread = Thread {
            producerEnd.run { producer in
                var next: UInt64 = 0
                while next < UInt64(total) {
                    if producer.push(next) { next += 1 }  // retry refused pushes: this test wants all
                }
            }
        }
        thread.start()
        var expected: UInt64 = 0
        var refused: UInt64 = 0
        var outOfOrder = 0
        while expected < UInt64(total) {
            _ = consumer.popBatch(limit: 256) { value in
                if value != expected { outOfOrder += 1 }
                expected = value + 1
            }
            refused += consumer.takeDrops()
        }
        refused += consumer.takeDrops()
        #expect(outOfOrder == 0)
        #expect(expected == UInt64(total))
        #expect(consumer.pop() == nil)
        #expect(refused == consumer.ring.totalDrops, "every refused push was reported")
    }

    /// A producer that never retries: the consumer sees a strictly increasing subsequence, and
    /// what it saw plus what was counted as dropped is exactly what was offered.
    @Test func droppedItemsAreAllCounted() {
        let offered = 2_000_000
        let ring = SPSCRing<UInt64>(capacity: 64)
        let producerEnd = ProducerBox(RingProducer(ring))
        var consumer = RingConsumer(ring)
        let done = Flag()
        let thread = Thread {
            producerEnd.run { producer in
                for i in 0..<UInt64(offered) { _ = producer.push(i) }
            }
            done.set()
        }
        thread.start()
        var received = 0
        var last: UInt64? = nil
        var increasing = true
        var drops: UInt64 = 0
        while true {
            let finished = done.isSet
            let n = consumer.popBatch(limit: 32) { value in
                if let l = last, value <= l { increasing = false }
                last = value
            }
            received += n
            drops += consumer.takeDrops()
            if finished && n == 0 { break }
        }
        drops += consumer.takeDrops()
        #expect(increasing)
        #expect(UInt64(received) + drops == UInt64(offered))
        #expect(drops > 0, "a 64-slot ring under a free-running producer must overflow")
    }
}

/// Hands the noncopyable producer end to another thread (the test's one producer).
final class ProducerBox<Element: BitwiseCopyable>: @unchecked Sendable {
    private var producer: RingProducer<Element>?
    init(_ producer: consuming RingProducer<Element>) { self.producer = .some(producer) }
    func run(_ body: (inout RingProducer<Element>) -> Void) {
        var p = producer.take()!
        body(&p)
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
