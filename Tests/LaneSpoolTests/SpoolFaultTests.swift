import Foundation
import LaneCore
import LaneSpool
import LaneTestSupport
import LaneSQLite
import LaneWire
import Testing

/// The disk-full and kill -9 cases that used to lose or double data. Real tmpfs mounts: a
/// filler file takes the last free byte, and the spool's own write-ahead log is emptied first so
/// that its next write must grow the file and fail.
@Suite("Spool faults", .enabled(if: canMount, "needs mount(8): run as root"), .serialized)
struct SpoolFaultTests {
    /// `lanegate send` opened its spool with the daemon's free-space floor and threw away
    /// 4,724 of 4,725 batches on a 4 MB filesystem before sending one.
    @Test func aSpoolOpenedToDeliverItNeverEvicts() async throws {
        try await onItsOwnThread {
            let directory = try #require(mountTinyFilesystem(kilobytes: 4096))
            defer { unmount(directory) }
            let path = directory + "/spool.db"
            var writer: Spool? = Spool(path: path, gatewayID: "gw-1", settings: SpoolSettings(minFreeDiskBytes: 0), nowUTC: t0)
            commitRoutine(writer!, count: 150, size: 16_000)
            writer = nil

            var deliverOnly = SpoolSettings()  // the default floor, 256 MiB, is far above what is free
            deliverOnly.evicts = false
            let sender = Spool(path: path, gatewayID: "gw-1", settings: deliverOnly, nowUTC: t0 + minute)
            #expect(sender.status().batches == 150 && sender.unreportedLosses().isEmpty)
            sender.commit(batch(sender.nextSequence, size: 16_000, at: t0 + 2 * minute))
            #expect(sender.status().batches == 151, "nothing evicted by a later commit either")

            let daemon = Spool(path: directory + "/other.db", gatewayID: "gw-1", nowUTC: t0)
            commitRoutine(daemon, count: 3, size: 16_000)
            #expect(daemon.status().batches == 1, "the daemon's spool does evict under the floor (the control)")
        }
    }

    /// Acknowledged batches the disk would not delete were sent again at once: 20,227 acks
    /// for 49 batches in 25 s.
    @Test func acknowledgedBatchesAreNotOfferedAgainWhenTheDiskRefusesTheDelete() async throws {
        try await onItsOwnThread {
            let directory = try #require(mountTinyFilesystem(kilobytes: 1024))
            defer { unmount(directory) }
            let path = directory + "/spool.db"
            let spool = Spool(path: path, gatewayID: "gw-1", settings: SpoolSettings(minFreeDiskBytes: 0), nowUTC: t0)
            commitRoutine(spool, count: 10, size: 8_000)
            try fillDisk(directory, spool: path)

            for sequence in spool.sequences(after: 0, limit: 100) { spool.acknowledge(sequence) }
            #expect(spool.status().degraded != nil, "the disk refused the deletions")
            #expect(spool.sequences(after: 0, limit: 100).isEmpty && spool.batches(after: 0, limit: 100).isEmpty)
            #expect(spool.depth == 0 && (1...10).allSatisfy { (try? spool.batch(UInt64($0))) == .some(nil) })

            try FileManager.default.removeItem(atPath: directory + "/filler")
            spool.commit(batch(spool.nextSequence, at: t0 + minute))
            #expect(spool.status().degraded == nil)
            #expect(spool.sequences(after: 0, limit: 100) == [11])
            let reopened = Spool(path: path, gatewayID: "gw-1", settings: SpoolSettings(minFreeDiskBytes: 0), nowUTC: t0 + 2 * minute)
            #expect(reopened.sequences(after: 0, limit: 100) == [11], "the acknowledged batches are gone from the file")
        }
    }

    /// Batches sent from memory during a disk-full episode got their sequences handed out again
    /// after a restart; the collector answered 409 and 55 batches were lost.
    @Test func sequencesSentFromMemoryAreNeverHandedOutAgain() async throws {
        try await onItsOwnThread {
            let directory = try #require(mountTinyFilesystem(kilobytes: 1024))
            defer { unmount(directory) }
            let path = directory + "/spool.db"
            let settings = SpoolSettings(minFreeDiskBytes: 0)
            var spool: Spool? = Spool(path: path, gatewayID: "gw-1", settings: settings, nowUTC: t0)
            commitRoutine(spool!, count: 3)
            try fillDisk(directory, spool: path)
            for i in 1...5 { spool!.commit(batch(spool!.nextSequence, events: 7, size: 2_000, at: t0 + Int64(i) * minute)) }
            let status = spool!.status()
            #expect(status.degraded != nil && status.memoryBatches == 5)
            let sent = spool!.batches(after: 3, limit: 100).map(\.sequence)
            #expect(sent == [4, 5, 6, 7, 8], "the lease is written in place, so a full disk still lets memory batches go")

            spool = nil  // killed: no clean stop
            try FileManager.default.removeItem(atPath: directory + "/filler")
            let restarted = Spool(path: path, gatewayID: "gw-1", settings: settings, nowUTC: t0 + 10 * minute)
            #expect(restarted.nextSequence > 8, "next is \(restarted.nextSequence): above every sequence sent from memory")
            let lost = restarted.unreportedLosses()
            #expect(lost == [SpoolLoss(reason: .spoolFull, batches: 5, events: 35)], "what memory held is reported: \(lost)")
        }
    }

    /// `replay --spool` on a full disk held 7,437 batches in memory, lost them at exit, and the
    /// spool said "unreported loss none".
    @Test func whatMemoryHoldsAtACleanStopIsCountedLost() async throws {
        try await onItsOwnThread {
            let directory = try #require(mountTinyFilesystem(kilobytes: 1024))
            defer { unmount(directory) }
            let path = directory + "/spool.db"
            let settings = SpoolSettings(minFreeDiskBytes: 0, memoryFallbackBytes: 8_000)
            let spool = Spool(path: path, gatewayID: "gw-1", settings: settings, nowUTC: t0)
            commitRoutine(spool, count: 2)
            try fillDisk(directory, spool: path)
            for i in 1...6 { spool.commit(batch(spool.nextSequence, events: 4, size: 3_000, at: t0 + Int64(i) * minute)) }
            #expect(spool.status().memoryBatches == 2, "memory keeps 8 kB: four batches already dropped, and counted")
            spool.close(nowUTC: t0 + 7 * minute)

            let reopened = Spool(path: path, gatewayID: "gw-1", settings: settings, nowUTC: t0 + 8 * minute)
            #expect(reopened.unreportedLosses() == [SpoolLoss(reason: .spoolFull, batches: 6, events: 24)])
            try FileManager.default.removeItem(atPath: directory + "/filler")
            let later = Spool(path: path, gatewayID: "gw-1", settings: settings, nowUTC: t0 + 9 * minute)
            #expect(later.unreportedLosses() == [SpoolLoss(reason: .spoolFull, batches: 6, events: 24)], "counted once")
            #expect(later.sequences(after: 0, limit: 100) == [1, 2])
        }
    }
}

@Suite("Spool across stops")
struct SpoolStopTests {
    /// A run that never stopped cleanly, followed by a run under another kernel boot: the
    /// machine lost power, and the last moment's events may be gone. Said once, as a gap.
    @Test func anUncleanStopUnderAnotherBootIsReportedAsAPowerLoss() {
        let path = temporaryDirectory() + "/spool.db"
        var spool = Spool(path: path, gatewayID: "gw-1", nowUTC: t0, bootID: "boot-a")
        commitRoutine(spool, count: 1)
        spool = Spool(path: path, gatewayID: "gw-1", nowUTC: t0, bootID: "boot-a")
        #expect(spool.unreportedLosses().isEmpty, "killed, same boot: the kernel kept every write")
        spool.close(nowUTC: t0)
        spool = Spool(path: path, gatewayID: "gw-1", nowUTC: t0, bootID: "boot-b")
        #expect(spool.unreportedLosses().isEmpty, "a clean stop, then a reboot: nothing lost")
        spool = Spool(path: path, gatewayID: "gw-1", nowUTC: t0, bootID: "boot-c")
        #expect(spool.unreportedLosses() == [SpoolLoss(reason: .powerLoss, batches: 0, events: 0)])
    }

    /// Journal groups are written without an fsync each; a kill right after loses none.
    @Test func aJournalGroupWrittenJustBeforeAKillIsRecovered() throws {
        let path = temporaryDirectory() + "/spool.db"
        var spool: Spool? = Spool(path: path, gatewayID: "gw-1", nowUTC: t0)
        let anchor = ClockAnchor(monotonic: .zero, utcNanoseconds: t0, sync: .unknown, maxErrorMicros: -1, estimatedErrorMicros: -1)
        spool!.journal(events: 1, body: BatchEncoder(gatewayID: "gw-1", layout: layout).journaled(EventBatch(
            sequence: 0, events: [arrival(1, "30aa")], counters: nil, anchor: anchor, priority: false)), nowUTC: t0)
        spool = nil
        let reopened = Spool(path: path, gatewayID: "gw-1", nowUTC: t0 + minute)
        #expect(reopened.batches(after: 0, limit: 10).map(\.events) == [1])
    }
}

/// Empties the spool's write-ahead log (so its next write must grow the file), then fills the
/// filesystem to the last byte with `directory/filler`.
func fillDisk(_ directory: String, spool path: String) throws {
    let connection = try SQLiteConnection(path: path, create: false)
    try connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    // Close-on-exec: a process another test starts meanwhile (PostgreSQL, the daemon) must not
    // inherit the filler, or deleting it would free nothing while that process runs.
    let fd = open(directory + "/filler", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    try #require(fd >= 0)
    defer { close(fd) }
    let chunk = [UInt8](repeating: 0, count: 4096)
    while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
    fsync(fd)
}
