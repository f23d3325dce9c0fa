// The ring's side of ring-vs-boost.sh, compiled with the production SPSCRing.swift: the same
// workload as boost_spsc.cpp, one timed run per invocation.
//   ring_race single|batched ITEMS   prints items per second, in millions
#if canImport(Glibc)
import Glibc
#endif

struct Element32 { var a, b, c, d: UInt64 }

/// Producer on CPU 0, consumer on CPU 1, as boost_spsc does. Glibc's overlay hides
/// sched_setaffinity (a GNU extension), so it is looked up by name.
func pin(to cpu: Int) {
    typealias SetAffinity = @convention(c) (pid_t, Int, UnsafeRawPointer) -> Int32
    guard let symbol = dlsym(nil, "sched_setaffinity") else { return }
    var set = cpu_set_t()
    withUnsafeMutableBytes(of: &set) { $0[cpu / 8] |= UInt8(1 << (cpu % 8)) }
    _ = withUnsafeBytes(of: &set) { unsafeBitCast(symbol, to: SetAffinity.self)(0, $0.count, $0.baseAddress!) }
}

/// The producer's thread: it claims the ring's writing end and keeps it in a local.
final class Producer: Sendable {
    let ring: SPSCRing<Element32>
    let items: Int
    init(_ ring: SPSCRing<Element32>, items: Int) { self.ring = ring; self.items = items }
    func run() {
        pin(to: 0)
        var end = RingProducer(ring)
        var i = 0
        while i < items {
            if end.push(Element32(a: UInt64(i), b: 0, c: 0, d: 0)) { i &+= 1 }
        }
    }
}

@main enum RingRace {
    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count == 3, ["single", "batched"].contains(arguments[1]), let items = Int(arguments[2]) else {
            fputs("usage: ring_race single|batched ITEMS\n", stderr)
            exit(2)
        }
        let ring = SPSCRing<Element32>(capacity: 4096)
        let producer = Producer(ring, items: items)
        var consumer = RingConsumer(ring)
        pin(to: 1)
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        var thread = pthread_t()
        let box = Unmanaged.passRetained(producer)
        pthread_create(&thread, nil, { raw in
            Unmanaged<Producer>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, box.toOpaque())
        var received = 0
        var checksum: UInt64 = 0
        if arguments[1] == "batched" {
            while received < items { received &+= consumer.popBatch(limit: 512) { checksum &+= $0.a } }
        } else {
            while received < items {
                if let e = consumer.pop() { checksum &+= e.a; received &+= 1 }
            }
        }
        pthread_join(thread, nil)
        clock_gettime(CLOCK_MONOTONIC, &end)
        let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        guard checksum == UInt64(items) * UInt64(items - 1) / 2 else {
            fputs("ring: lost or reordered items\n", stderr)
            exit(1)
        }
        print((Double(items) / seconds / 1e4).rounded() / 100)
    }
}
