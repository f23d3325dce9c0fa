import LaneCore
import Testing

@Suite("RFID visits")
struct TagVisitTests {
    @Test func arrivalAtFirstReadAndDepartureAfterSilence() {
        let reads = [read(tagA, at: 1000, rssi: -70), read(tagA, at: 1500, port: 2, rssi: -52), read(tagA, at: 2500, rssi: -61)]
        let (events, _) = run(reads, until: 5501)
        #expect(events.count == 2)
        let a = events[0].arrival!
        #expect(a.time == ms(1000) && a.tag == tagA && a.readPoint == 0)
        let d = events[1].departure!
        #expect(d.firstSeen == ms(1000) && d.lastSeen == ms(2500))
        #expect(d.readCount == 3 && d.peakRSSI == -52 && !d.evicted)
        #expect(antennaPorts(d.antennas) == [1, 2])
    }

    @Test func departsOnlyAfterMoreThanDepartAfter() {
        // Last read at 2000, depart_after 3 s: still present at exactly 5000, gone just after.
        #expect(run([read(tagA, at: 2000)], until: 5000).events.count == 1)
        #expect(run([read(tagA, at: 2000)], until: 5001).events.count == 2)
        // A read exactly depart_after later continues the visit.
        let (events, _) = run([read(tagA, at: 2000), read(tagA, at: 5000)])
        #expect(events.compactMap(\.arrival).count == 1)
        #expect(events.compactMap(\.departure).first?.readCount == 2)
    }

    @Test func aLongerGapMakesTwoVisits() {
        let (events, _) = run([read(tagA, at: 0), read(tagA, at: 3001)])
        #expect(events.map(\.typeName) == ["tag_arrived", "tag_departed", "tag_arrived", "tag_departed"])
        #expect(events[1].departure?.lastSeen == ms(0))
        #expect(events[2].arrival?.time == ms(3001))
    }

    @Test func minReadsDelaysArrivalButStampsTheFirstRead() {
        let layout = testLayout(minReads: 3)
        let (events, pipeline) = run([read(tagA, at: 100), read(tagA, at: 200), read(tagA, at: 900)], layout: layout)
        #expect(events[0].arrival?.time == ms(100))
        #expect(events[1].departure?.readCount == 3)
        #expect(pipeline.counters.noise == 0)
    }

    @Test func candidateThatNeverReachesMinReadsIsNoise() {
        let layout = testLayout(minReads: 3)
        // Two reads, then a gap longer than depart_after restarts the count: never 3 in a row.
        let (events, pipeline) = run([read(tagA, at: 0), read(tagA, at: 1000), read(tagA, at: 4500), read(tagA, at: 5000)],
                                     layout: layout)
        #expect(events.isEmpty)
        #expect(pipeline.counters.noise == 2)
    }

    @Test func readPointsAreIndependentAndEachHasItsOwnWindow() {
        // Port 3 is lane1/exit with depart_after 1 s.
        let (events, _) = run([read(tagA, at: 0, port: 1), read(tagA, at: 0, port: 3)], until: 1001 + 1)
        #expect(events.compactMap(\.arrival).map(\.readPoint).sorted() == [0, 1])
        #expect(events.compactMap(\.departure).map(\.readPoint) == [1], "only the exit's 1 s window has passed")
    }

    @Test func unmappedAntennaIsCountedNotTracked() {
        let (events, pipeline) = run([read(tagA, at: 0, port: 9)])
        #expect(events.isEmpty)
        #expect(pipeline.counters.unmapped == 1)
    }

    @Test func capEvictsTheLeastRecentlyReadAndCountsIt() {
        let layout = testLayout(maxTags: 2)
        let tagC = TagID(hex: "0102")!
        let (events, pipeline) = run([read(tagA, at: 0), read(tagB, at: 10), read(tagA, at: 20), read(tagC, at: 30)],
                                     layout: layout, until: 40)
        let evicted = events.compactMap(\.departure).filter(\.evicted)
        #expect(evicted.map(\.tag) == [tagB])
        #expect(pipeline.counters.evictedTags == 1)
        #expect(pipeline.tracked.tags == 2)
    }

    @Test func pseudonymsReplaceTagIdsAndMatchAcrossReadPoints() throws {
        let key = try #require(TagPseudonymizer(keyBytes: Array("port-of-entry-site-key".utf8)))
        let other = try #require(TagPseudonymizer(keyBytes: Array("another-site-key-000000".utf8)))
        let (events, _) = run([read(tagA, at: 0, port: 1), read(tagA, at: 10, port: 3)], pseudonymizer: key)
        let ids = Set(events.compactMap { $0.arrival?.tag } + events.compactMap { $0.departure?.tag })
        #expect(ids.count == 1, "same key, same tag: one pseudonym at both read points and in both events")
        #expect(ids.first != tagA)
        #expect(ids.first?.count == 16)
        #expect(ids.first == key.pseudonym(for: tagA))
        #expect(key.pseudonym(for: tagA) != other.pseudonym(for: tagA))
        #expect(TagPseudonymizer(keyBytes: [UInt8](repeating: 1, count: 15)) == nil, "short keys are refused")
    }

    @Test func lateDetectionIsCountedAndNeverMovesTimeBack() {
        let (_, pipeline) = run([read(tagA, at: 1000), read(tagB, at: 900)], until: 1000)
        #expect(pipeline.counters.late == 1)
        #expect(pipeline.now == ms(1000))
    }

    @Test func replayIsDeterministic() {
        var reads: [Detection] = []
        for i in 0..<500 {
            let time = Int64(i * 37 % 9000 + i * 20)
            reads.append(read(i % 3 == 0 ? tagA : tagB, at: time, port: UInt8(1 + i % 3)))
        }
        reads.sort { $0.time < $1.time }
        #expect(run(reads).events == run(reads).events)
    }
}

@Suite("E-seals")
struct SealTests {
    @Test func seenChangedAndDeparted() {
        let (events, _) = run([sealReport(.sealed, at: 0), sealReport(.sealed, at: 1000),
                               sealReport([.tampered, .opened], at: 2000), sealReport([.tampered, .opened], at: 2500)],
                              until: 5501)
        #expect(events.map(\.typeName) == ["seal_seen", "seal_changed", "seal_departed"])
        guard case .sealChanged(let change) = events[1], case .sealDeparted(let gone) = events[2] else {
            Issue.record("unexpected events \(events)")
            return
        }
        #expect(change.previous == .sealed && change.status == [.tampered, .opened] && change.time == ms(2000))
        #expect(events[1].isPriority && !events[0].isPriority)
        #expect(gone.reportCount == 4 && gone.firstSeen == ms(0) && gone.lastSeen == ms(2500))
        #expect(gone.status == [.tampered, .opened])
    }
}
