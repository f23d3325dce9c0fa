import Foundation
import LaneCore
import LaneSpool
import LaneTestSupport
import LaneWire
import Testing

@Suite("Spool")
struct SpoolTests {
    @Test func committedBatchesAndTheSequenceSurviveReopening() throws {
        let path = temporaryDirectory() + "/spool.db"
        var spool = Spool(path: path, gatewayID: "gw-1", nowUTC: t0)
        #expect(spool.nextSequence == 1)
        let sent = [batch(1), batch(2, priority: true), batch(3)]
        for b in sent { spool.commit(b) }
        spool.acknowledge(2)
        spool = Spool(path: path, gatewayID: "gw-1", nowUTC: t0 + minute)
        #expect(spool.batches(after: 0, limit: 10) == [sent[0], sent[2]])
        #expect(spool.nextSequence > 3, "a sequence is never handed out twice")
        #expect(spool.status().degraded == nil)
        #expect(spool.batches(after: 1, limit: 1).map(\.sequence) == [3], "paging is by sequence")
    }

    /// Events journaled for a batch that never closed (the process died) come back as batches.
    @Test func theJournalOfAnUnclosedBatchIsRecoveredOnOpen() throws {
        let path = temporaryDirectory() + "/spool.db"
        let encoder = BatchEncoder(gatewayID: "gw-1", layout: layout)
        var spool = Spool(path: path, gatewayID: "gw-1", nowUTC: t0)
        spool.commit(batch(1))
        let groups = [[arrival(1000, "01"), arrival(1500, "02")], [arrival(2000, "03")]]
        for events in groups {
            let open = EventBatch(sequence: 0, events: events, counters: nil, anchor: ClockAnchor(monotonic: .zero, utcNanoseconds: t0, sync: .unknown, maxErrorMicros: -1, estimatedErrorMicros: -1), priority: false)
            spool.journal(events: events.count, body: encoder.journaled(open), nowUTC: t0)
        }
        spool = Spool(path: path, gatewayID: "gw-1", nowUTC: t0 + minute)
        let recovered = spool.batches(after: 1, limit: 10)
        #expect(recovered.map(\.sequence) == [2, 3] && recovered.map(\.events) == [2, 1])
        for (stored, events) in zip(recovered, groups) {
            let decoded = try BatchDecoder.decode(stored.body)
            #expect(decoded.sequence == stored.sequence && decoded.gatewayID == "gw-1")
            #expect(decoded.events.map { $0.json(naming: decoded) } == events.map { $0.json(naming: layout) })
        }
        #expect(spool.nextSequence == 4)
        // A closed batch clears the journal: nothing is recovered twice.
        spool.commit(batch(4))
        spool = Spool(path: path, gatewayID: "gw-1", nowUTC: t0 + 2 * minute)
        #expect(spool.batches(after: 0, limit: 10).map(\.sequence) == [1, 2, 3, 4])
    }

    @Test func overTheByteCapRoutineBatchesGoFirstAndTheLossIsRecorded() {
        let path = temporaryDirectory() + "/spool.db"
        let spool = Spool(path: path, gatewayID: "gw-1", settings: SpoolSettings(maxBytes: 1000, minFreeDiskBytes: 0), nowUTC: t0)
        spool.commit(batch(1, events: 3, priority: true))
        commitRoutine(spool, count: 6)  // 7 × 200 bytes against a 1000-byte cap
        let kept = spool.batches(after: 0, limit: 10)
        #expect(kept.map(\.sequence) == [1, 4, 5, 6, 7], "the priority batch outlives older routine ones")
        #expect(spool.unreportedLosses() == [SpoolLoss(reason: .spoolFull, batches: 2, events: 20)])
        #expect(spool.status().bytes <= 1000)
        // The losses travel as gap events in the next batch; committing it clears them (and
        // its own weight pushes out one more routine batch, a new loss).
        spool.commit(batch(8, size: 10), reported: spool.unreportedLosses())
        #expect(spool.unreportedLosses() == [SpoolLoss(reason: .spoolFull, batches: 1, events: 10)])
        #expect(spool.batches(after: 0, limit: 10).map(\.sequence) == [1, 5, 6, 7, 8])
    }

    @Test func batchesOlderThanTheirTimeToLiveExpireAndAreCounted() {
        let path = temporaryDirectory() + "/spool.db"
        let settings = SpoolSettings(minFreeDiskBytes: 0, routineTimeToLive: .minutes(10), priorityTimeToLive: .minutes(60))
        let spool = Spool(path: path, gatewayID: "gw-1", settings: settings, nowUTC: t0)
        spool.commit(batch(1, events: 4, at: t0))
        spool.commit(batch(2, events: 5, priority: true, at: t0))
        spool.commit(batch(3, events: 6, at: t0 + 20 * minute))
        #expect(spool.batches(after: 0, limit: 10).map(\.sequence) == [2, 3])
        #expect(spool.unreportedLosses() == [SpoolLoss(reason: .expired, batches: 1, events: 4)])
    }

    @Test func aRefusedBatchMovesToTheDeadLetters() {
        let path = temporaryDirectory() + "/spool.db"
        let spool = Spool(path: path, gatewayID: "gw-1", nowUTC: t0)
        commitRoutine(spool, count: 3)
        spool.deadLetter(2, status: 400, reason: "malformed", nowUTC: t0)
        #expect(spool.batches(after: 0, limit: 10).map(\.sequence) == [1, 3])
        #expect(spool.status().deadLetters == 1)
    }

    @Test func aCorruptFileIsMovedAsideAndANewSpoolContinuesAboveOldSequences() throws {
        let directory = temporaryDirectory()
        let path = directory + "/spool.db"
        var spool = Spool(path: path, gatewayID: "gw-1", nowUTC: t0)
        commitRoutine(spool, count: 5)
        spool = Spool(path: directory + "/other.db", gatewayID: "gw-1", nowUTC: t0)  // releases the file
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 4096))
        try handle.close()

        spool = Spool(path: path, gatewayID: "gw-1", nowUTC: t0 + minute)
        #expect(spool.nextSequence > 5, "the sequence lease keeps numbers from being reused")
        #expect(spool.unreportedLosses().map(\.reason) == [.spoolCorrupt])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).contains { $0.hasPrefix("spool.db.corrupt-") })
        spool.commit(batch(spool.nextSequence))
        #expect(spool.batches(after: 0, limit: 10).count == 1 && spool.status().degraded == nil)
    }

    @Test func anotherGatewaysSpoolIsSetAsideNotSent() throws {
        let directory = temporaryDirectory()
        var spool = Spool(path: directory + "/spool.db", gatewayID: "gw-1", nowUTC: t0)
        commitRoutine(spool, count: 2)
        spool = Spool(path: directory + "/spool.db", gatewayID: "gw-2", nowUTC: t0)
        #expect(spool.batches(after: 0, limit: 10).isEmpty)
        #expect(spool.status().setAside?.contains("gw-1") == true)
        #expect(spool.status().degraded == nil && spool.unreportedLosses().isEmpty, "not ours: no loss of ours")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).contains { $0.hasPrefix("spool.db.foreign-") })
    }
}

/// Real filesystems that fill up and turn read-only (tmpfs mounts; CI runs as root).
@Suite("Spool on a failing disk", .enabled(if: canMount, "needs mount(8): run as root"), .serialized)
struct SpoolDiskTests {
    @Test func aFullDiskDegradesToMemoryAndRecoversWhenSpaceReturns() async throws {
        try await onItsOwnThread {
            let directory = try #require(mountTinyFilesystem(kilobytes: 256))
            defer { unmount(directory) }
            let spool = Spool(path: directory + "/spool.db", gatewayID: "gw-1",
                              settings: SpoolSettings(minFreeDiskBytes: 0), nowUTC: t0)
            var time = t0
            for _ in 0..<40 {
                time += minute
                spool.commit(batch(spool.nextSequence, size: 16_000, at: time))
            }
            let full = spool.status()
            #expect(full.degraded != nil, "the spool says it is not writing")
            #expect(full.memoryBatches > 0 && full.batches == 40, "nothing is lost while memory holds")
            #expect(spool.batches(after: 0, limit: 100).count == 40)

            #expect(remount(directory, options: "size=4m"))
            time += minute
            spool.commit(batch(spool.nextSequence, size: 16_000, at: time))
            let recovered = spool.status()
            #expect(recovered.degraded == nil && recovered.memoryBatches == 0)
            #expect(recovered.batches == 41 && spool.unreportedLosses().isEmpty)
        }
    }

    @Test func theFreeSpaceFloorDropsByPolicyBeforeTheDiskFills() async throws {
        try await onItsOwnThread {
            let directory = try #require(mountTinyFilesystem(kilobytes: 8192))
            defer { unmount(directory) }
            let spool = Spool(path: directory + "/spool.db", gatewayID: "gw-1",
                              settings: SpoolSettings(minFreeDiskBytes: 4 << 20), nowUTC: t0)
            spool.commit(batch(1, events: 1, size: 8_000, priority: true))
            commitRoutine(spool, count: 400, size: 16_000)
            let status = spool.status()
            #expect(status.degraded == nil, "the floor is a policy, not a failure")
            #expect(spool.batches(after: 0, limit: 1000).first?.sequence == 1, "the priority batch is kept")
            let loss = try #require(spool.unreportedLosses().first)
            #expect(loss.reason == .spoolFull && loss.batches > 0 && loss.events == 10 * loss.batches)
            #expect(Int(loss.batches) + status.batches == 401, "every batch is either kept or counted")
        }
    }

    @Test func aReadOnlyFilesystemNeverStopsTheSpool() async throws {
        try await onItsOwnThread {
            let directory = try #require(mountTinyFilesystem(kilobytes: 1024))
            defer { unmount(directory) }
            let settings = SpoolSettings(minFreeDiskBytes: 0)
            var spool: Spool? = Spool(path: directory + "/spool.db", gatewayID: "gw-1", settings: settings, nowUTC: t0)
            commitRoutine(spool!, count: 2)
            spool = nil  // a remount read-only waits for writers to close
            #expect(remount(directory, options: "ro"))
            spool = Spool(path: directory + "/spool.db", gatewayID: "gw-1", settings: settings, nowUTC: t0 + minute)
            let readOnly = try #require(spool)
            #expect(readOnly.status().degraded != nil)
            readOnly.commit(batch(readOnly.nextSequence, at: t0 + 2 * minute))
            // Nothing on a read-only disk can record that its sequence was used: it waits in
            // memory rather than be sent and its sequence handed out again after a restart.
            #expect(readOnly.status().memoryBatches == 1 && readOnly.batches(after: 0, limit: 10).isEmpty)
            #expect(remount(directory, options: "rw"))
            readOnly.commit(batch(readOnly.nextSequence, at: t0 + 3 * minute))
            #expect(readOnly.status().degraded == nil && readOnly.status().memoryBatches == 0)
            let kept = readOnly.batches(after: 0, limit: 10).map(\.sequence)
            #expect(kept.count == 4 && kept[0...1] == [1, 2], "file and memory batches all kept")
            #expect(kept[2] > 2 && kept[3] > kept[2], "sequences handed out while read-only never repeat")
        }
    }
}
