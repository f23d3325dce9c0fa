import LaneCore
import Testing

@Suite("Loops")
struct LoopTests {
    @Test func onOffIntervalIsAVehicle() {
        let (events, _) = run([edge(line: 1, true, at: 1000), edge(line: 1, false, at: 1800)])
        #expect(events.count == 1)
        let v = events[0].vehicle!
        #expect(v.onTime == ms(1000) && v.offTime == ms(1800) && v.speed == nil)
    }

    @Test func bounceShorterThanDebounceIsIgnoredBothEdges() {
        let (events, pipeline) = run([
            edge(line: 1, true, at: 1000), edge(line: 1, false, at: 1400), edge(line: 1, true, at: 1420),  // 20 ms gap
            edge(line: 1, false, at: 2000),
            edge(line: 1, true, at: 3000), edge(line: 1, false, at: 3029),  // 29 ms spike
        ])
        #expect(events.compactMap(\.vehicle).map { [$0.onTime, $0.offTime] } == [[ms(1000), ms(2000)]])
        #expect(pipeline.counters.bouncedEdges == 4)
    }

    @Test func intervalOfExactlyDebounceIsAccepted() {
        let (events, _) = run([edge(line: 1, true, at: 1000), edge(line: 1, false, at: 1030)])
        #expect(events.compactMap(\.vehicle).count == 1)
    }

    @Test func repeatedLevelIsCountedNotAVehicle() {
        let (events, pipeline) = run([edge(line: 1, false, at: 10), edge(line: 1, true, at: 1000), edge(line: 1, true, at: 1100),
                                      edge(line: 1, false, at: 2000)])
        #expect(events.compactMap(\.vehicle).count == 1)
        #expect(pipeline.counters.repeatedEdges == 2)
    }

    @Test func speedTrapGivesSpeedAndLengthOnTheDownstreamVehicle() throws {
        // Leading edges 5 m apart, 500 ms: 10 m/s. On-time 900 ms: 9 m − 1.8 m loop = 7.2 m.
        let (events, _) = run([edge(line: 0, true, at: 1000), edge(line: 1, true, at: 1500),
                               edge(line: 0, false, at: 1900), edge(line: 1, false, at: 2400)])
        let vehicles = events.compactMap(\.vehicle)
        #expect(vehicles.count == 2)
        #expect(vehicles[0].loop == 0 && vehicles[0].speed == nil)
        let down = try #require(vehicles.first { $0.loop == 1 })
        #expect(abs(try #require(down.speed) - 10) < 1e-9)
        #expect(abs(try #require(down.length) - 7.2) < 1e-9)
    }

    /// A call shorter than the time to cross the loop would give a negative length (-0.47 m was
    /// seen): the length is left out, the speed kept.
    @Test func aLengthBelowZeroIsLeftOut() throws {
        // 10 m/s, on-time 100 ms: 1 m − 1.8 m loop.
        let (events, _) = run([edge(line: 0, true, at: 1000), edge(line: 1, true, at: 1500),
                               edge(line: 0, false, at: 1100), edge(line: 1, false, at: 1600)])
        let down = try #require(events.compactMap(\.vehicle).first { $0.loop == 1 })
        #expect(abs(try #require(down.speed) - 10) < 1e-9)
        #expect(down.length == nil)
    }

    @Test func maxPresenceRaisedOnceAndClearedOnce() {
        let (events, _) = run([edge(line: 0, true, at: 0), edge(line: 0, false, at: 200_000)], until: 300_000)
        let faults = events.compactMap(\.fault)
        #expect(faults.map(\.raised) == [true, false])
        #expect(faults.allSatisfy { $0.kind == .maxPresence })
        #expect(faults[0].time == ms(120_000) && faults[1].time == ms(200_000))
    }

    @Test func vehicleLeavingJustBeforeMaxPresenceRaisesNothing() {
        // Off 10 ms before the 2-minute limit; acceptance is only decided 30 ms later.
        let (events, _) = run([edge(line: 0, true, at: 0), edge(line: 0, false, at: 119_990)], until: 200_000)
        #expect(events.compactMap(\.fault).isEmpty)
    }

    @Test func noActivityRaisedAfterSilenceAndClearedByTheNextCall() {
        let (events, _) = run([edge(line: 1, true, at: 0), edge(line: 1, false, at: 500),
                               edge(line: 0, true, at: 700_000), edge(line: 0, false, at: 701_000)], until: 702_000)
        let faults = events.compactMap(\.fault).filter { $0.kind == .noActivity }
        #expect(faults.map(\.raised) == [true, false])
        #expect(faults.map(\.loop) == [0, 0])
        #expect(faults[0].time == ms(600_000), "ten minutes after the pipeline started (first detection at 0)")
        #expect(faults[1].time == ms(700_000))
    }

    @Test func erraticCountsRaisedAboveTheLimitAndClearedWhenTheMinuteCalms() {
        // Limit 5 a minute: the 6th call within 60 s raises; it clears 60 s after the oldest of the six.
        var d: [Detection] = []
        for i in 0..<6 {
            d.append(edge(line: 0, true, at: Int64(i) * 1000))
            d.append(edge(line: 0, false, at: Int64(i) * 1000 + 500))
        }
        let (events, _) = run(d, until: 120_000)
        let faults = events.compactMap(\.fault).filter { $0.kind == .erraticCounts }
        #expect(faults.map(\.raised) == [true, false])
        #expect(faults[0].time == ms(5000) && faults[1].time == ms(60_000))
    }

    @Test func edgesFromAnUnconfiguredLineAreCounted() {
        let (events, pipeline) = run([edge(line: 7, true, at: 0)])
        #expect(events.isEmpty)
        #expect(pipeline.counters.unmapped == 1)
    }
}

@Suite("Batching")
struct BatcherTests {
    let anchor = ClockAnchor(monotonic: .zero, utcNanoseconds: 0, sync: .unknown, maxErrorMicros: -1, estimatedErrorMicros: -1)
    let vehicle = LaneEvent.vehicle(VehiclePassage(loop: 0, onTime: ms(0), offTime: ms(1)))

    @Test func closesAfterTheWindowWithIncreasingSequence() {
        var b = Batcher(policy: BatchPolicy(window: .seconds(2), maxEvents: 100), firstSequence: 7)
        b.add(vehicle, now: ms(0))
        #expect(!b.isDue(now: ms(1999)))
        #expect(b.isDue(now: ms(2000)))
        #expect(b.close(now: ms(0), counters: PipelineCounters(), anchor: anchor)?.sequence == 7)
        #expect(b.close(now: ms(0), counters: PipelineCounters(), anchor: anchor) == nil, "an empty batch is never made")
        b.add(vehicle, now: ms(5000))
        #expect(b.close(now: ms(0), counters: PipelineCounters(), anchor: anchor)?.sequence == 8)
    }

    @Test func closesWhenFullOrAtOnceForPriority() {
        var b = Batcher(policy: BatchPolicy(window: .seconds(60), maxEvents: 2))
        b.add(vehicle, now: ms(0))
        #expect(!b.isDue(now: ms(0)))
        b.add(vehicle, now: ms(0))
        #expect(b.isDue(now: ms(0)))
        _ = b.close(now: ms(0), counters: PipelineCounters(), anchor: anchor)
        b.add(.detectorFault(DetectorFault(loop: 0, kind: .maxPresence, raised: true, time: ms(0))), now: ms(0))
        #expect(b.isDue(now: ms(0)))
        #expect(b.close(now: ms(0), counters: PipelineCounters(), anchor: anchor)?.priority == true)
    }
}

@Suite("Clock")
struct ClockTests {
    @Test func anchorPairsMonotonicAndRealtime() {
        let before = MonotonicInstant.now()
        let anchor = ClockAnchor.now()
        #expect(anchor.monotonic >= before && anchor.monotonic <= MonotonicInstant.now())
        #expect(anchor.utcNanoseconds > 1_700_000_000 * 1_000_000_000, "after November 2023")
        #expect(anchor.sync != .unknown, "adjtimex answers on Linux")
        #expect(anchor.utcNanoseconds(at: anchor.monotonic.advanced(by: 5)) == anchor.utcNanoseconds + 5)
    }
}
