import Foundation
import LaneCore
import LaneDevices
import Synchronization
import Testing

@Suite("Stop signal")
struct StopSignalTests {
    final class Observed: Sendable {
        let value = Atomic<UInt64>(0)
        private let done = Atomic<Bool>(false)
        var finished: Bool { done.load(ordering: .acquiring) }
        func finish() { done.store(true, ordering: .releasing) }
    }

    /// A device thread asleep for a minute between reconnects stops when asked, not a minute later.
    @Test func aSleeperWakesWhenTheSignalIsSet() async throws {
        let signal = StopSignal()
        let observed = Observed()
        let sleeper = Thread {
            observed.value.store(signal.sleep(.seconds(60)) ? 1 : 2, ordering: .relaxed)
            observed.finish()
        }
        sleeper.start()
        try await Task.sleep(for: .milliseconds(100))
        #expect(!observed.finished, "still asleep before the stop")
        signal.set()
        for _ in 0..<200 where !observed.finished { try await Task.sleep(for: .milliseconds(50)) }
        #expect(observed.finished, "woke within 10 s of a 60 s sleep")
        let said = observed.value.load(ordering: .relaxed)
        #expect(said == 2, "and said it was stopped")
        #expect(signal.sleep(.seconds(60)) == false, "a set signal does not sleep at all")
    }

    @Test func aSleepRunsItsCourseOrEndsWhenTheWakeValueChanges() {
        let signal = StopSignal()
        #expect(signal.sleep(.milliseconds(20)) == true)
        let generation = Observed()
        let changer = Thread {
            Thread.sleep(forTimeInterval: 0.1)
            generation.value.add(1, ordering: .relaxed)
        }
        changer.start()
        let started = ContinuousClock.now
        let woke = signal.sleep(.seconds(60), wake: { generation.value.load(ordering: .relaxed) })
        #expect(woke)
        #expect(ContinuousClock.now - started < .seconds(10), "a hotplug wake-up ends the sleep")
    }
}
