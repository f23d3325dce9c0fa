#if canImport(Glibc)
import Glibc
#endif
import LaneCore
import LaneSQLite
import LaneWire

/// The spool's state and policies; ``Spool`` serializes every call into it.
///
/// Three rules keep "nothing lost, nothing doubled" whatever the disk does:
/// - a batch held in memory is offered to the uplink only once the sequence lease durably
///   covers it, so a sequence sent from memory is never handed out again after a restart;
/// - an acknowledged batch the disk would not let go is remembered as acknowledged, never
///   offered again;
/// - whatever memory holds is written down in the lease, and what it still holds at a stop is
///   counted as lost, so a later batch reports it upstream.
final class SpoolEngine {
    let path: String
    let gatewayID: String
    let settings: SpoolSettings
    let bootID: String
    private var store: SpoolStore?
    private var lease: SequenceLease
    private(set) var nextSequence: UInt64 = 1
    /// Batches the disk refused, oldest first, waiting for the disk or the uplink. A batch is
    /// `leased` once the lease on disk covers its sequence and the journal rows it took in
    /// (through `journal`): only then may it be sent.
    private var memory: [(batch: SpooledBatch, journal: Int64, leased: Bool)] = []
    /// The newest journal row written: a batch committed now has taken in every row up to it.
    private var lastJournalID: Int64 = 0
    private var memoryBytes = 0
    /// Losses that could not be written to the spool file yet.
    private var memoryLosses: [GapReason: SpoolLoss] = [:]
    /// Acknowledged batches whose deletion the disk refused: never offered again.
    private var acknowledgedOnly: Set<UInt64> = []
    /// Journal groups written to the kernel but not yet fsynced.
    private var journalUnsynced = false
    private(set) var degraded: String?
    private var setAside: String?
    private var lastRetryUTC: Int64 = .min
    /// Retry a refusing disk at most this often.
    static let retryInterval: Int64 = 10_000_000_000

    init(path: String, gatewayID: String, settings: SpoolSettings, nowUTC: Int64, bootID: String) {
        self.path = path
        self.gatewayID = gatewayID
        self.settings = settings
        self.bootID = bootID
        lease = SequenceLease(path: path + ".sequence")
        open(nowUTC: nowUTC, starting: true)
    }

    // MARK: opening, recovery, degradation

    /// Opens the file; an unreadable or foreign one is moved aside and a new one started.
    private func open(nowUTC: Int64, starting: Bool = false, afterMovingAside: Bool = false) {
        lastRetryUTC = nowUTC
        do throws(SQLiteError) {
            let opened = try SpoolStore(path: path, gatewayID: gatewayID, durability: settings.durability)
            let check = try opened.connection.text("PRAGMA quick_check") ?? "no answer"
            guard check == "ok" else { throw SQLiteError(code: 11 /* SQLITE_CORRUPT */, message: "quick_check: \(check)") }
            store = opened
            // A new file, or one that fell behind while batches lived in memory, starts above
            // every sequence the lease says may have been used.
            let behind = opened.created || lease.unsynced
            nextSequence = max(nextSequence, behind ? max(opened.nextSequence, lease.limit) : opened.nextSequence)
            degraded = nil
            if starting {
                try noteHowTheLastRunEnded(opened)
            }
            lastJournalID = try opened.connection.integer("SELECT coalesce(max(id), 0) FROM journal") ?? 0
            try recoverJournal(opened)
            try flushMemory()
            try opened.advanceSequence(to: nextSequence)
            lease.markSynced()
            try enforcePolicies(nowUTC: nowUTC)
            try retryDeletes()
        } catch {
            store = nil
            // Unreadable counter: the lease is above every sequence handed out.
            nextSequence = max(nextSequence, lease.limit)
            degraded = "spool unavailable: \(error.message)"
            if (error.isCorruption || error.isForeign) && !afterMovingAside {
                moveAside(reason: error, nowUTC: nowUTC)
                open(nowUTC: nowUTC, starting: starting, afterMovingAside: true)
            }
        }
    }

    /// What the last run could not say itself: batches it held in memory when it died, and a
    /// power cut (it never stopped cleanly, and the machine has booted since).
    private func noteHowTheLastRunEnded(_ store: SpoolStore) throws(SQLiteError) {
        if lease.unsynced, memory.isEmpty, lease.held != SequenceLease.Held() {
            addLoss(SpoolLoss(reason: .spoolFull, batches: lease.held.batches, events: lease.held.events))
        }
        let running = try store.connection.text("SELECT value FROM meta WHERE key = 'running_boot'") ?? ""
        if !running.isEmpty && running != bootID {
            addLoss(SpoolLoss(reason: .powerLoss, batches: 0, events: 0))
        }
        try store.meta("running_boot", bootID.isEmpty ? "unknown" : bootID)
    }

    /// A crash left events of an unclosed batch in the journal: each group becomes a batch,
    /// but for groups a batch held in memory had already taken in (the lease names them).
    private func recoverJournal(_ store: SpoolStore) throws(SQLiteError) {
        let taken = lease.unsynced ? lease.journalThrough : 0
        let groups = try store.journalGroups()
        guard !groups.isEmpty else { return }
        try store.connection.transaction { () throws(SQLiteError) in
            for group in groups where group.id > taken {
                guard let body = try? BatchEncoder.sequenced(journaled: group.body, sequence: nextSequence) else {
                    addLoss(SpoolLoss(reason: .spoolCorrupt, batches: 0, events: UInt64(group.events)))
                    continue
                }
                guard lease.permits(nextSequence, synced: true) else { throw SQLiteError(code: 10, message: "cannot extend the sequence lease") }
                try store.insert(SpooledBatch(sequence: nextSequence, priority: false, events: group.events,
                                              createdUTC: group.createdUTC, body: body))
                nextSequence += 1
            }
            try store.clearJournal()
            try store.advanceSequence(to: nextSequence)
        }
    }

    /// Moves an unreadable or foreign spool file (and its WAL) aside, and records the loss.
    private func moveAside(reason: SQLiteError, nowUTC: Int64) {
        let foreign = reason.isForeign
        let suffix = (foreign ? ".foreign-" : ".corrupt-") + String(nowUTC / 1_000_000_000)
        var counted: (Int, Int)? = nil
        if !foreign, let old = try? SQLiteConnection(path: path, create: false, readOnly: true),
           let statement = try? old.prepare("SELECT count(*), total(events) FROM batches"), (try? statement.step()) == true {
            counted = (Int(statement.int64(0)), Int(statement.int64(1)))
        }
        for part in ["", "-wal", "-shm"] { rename(path + part, path + suffix + part) }
        setAside = "moved aside \(path + suffix): \(reason.message)"
        if !foreign {
            addLoss(SpoolLoss(reason: .spoolCorrupt, batches: UInt64(counted?.0 ?? 0), events: UInt64(counted?.1 ?? 0)))
        }
    }

    /// A write failed: keep going from memory and remember why.
    private func fail(_ error: SQLiteError, nowUTC: Int64) {
        // A rolled-back transaction leaves the running totals ahead of the file.
        try? store?.recount()
        if error.isCorruption {
            store = nil
            moveAside(reason: error, nowUTC: nowUTC)
        }
        degraded = "spool write failed: \(error.message)"
        lastRetryUTC = nowUTC
    }

    private func retryIfDegraded(nowUTC: Int64, now force: Bool = false) {
        guard degraded != nil, force || nowUTC - lastRetryUTC >= Self.retryInterval else { return }
        lastRetryUTC = nowUTC
        guard let store else { return open(nowUTC: nowUTC) }
        do {
            try flushMemory()
            try store.advanceSequence(to: nextSequence)
            try retryDeletes()
            lease.markSynced()
            degraded = nil
        } catch {
            fail(error, nowUTC: nowUTC)
        }
    }

    /// Writes the memory queue and memory losses to the file in one transaction, with the
    /// journal rows its batches took in gone.
    private func flushMemory() throws(SQLiteError) {
        guard let store, !memory.isEmpty || !memoryLosses.isEmpty else { return }
        let taken = memory.map(\.journal).max() ?? 0
        try store.connection.transaction { () throws(SQLiteError) in
            for held in memory { try store.insert(held.batch) }
            for loss in memoryLosses.values { try store.addLoss(loss) }
            if taken > 0 { try store.clearJournal(through: taken) }
        }
        memory.removeAll()
        memoryBytes = 0
        memoryLosses.removeAll()
    }

    /// Deletes acknowledged batches the disk refused to let go of before.
    private func retryDeletes() throws(SQLiteError) {
        guard let store, !acknowledgedOnly.isEmpty else { return }
        for sequence in acknowledgedOnly.sorted() {
            try store.deleteAcknowledged(sequence)
            acknowledgedOnly.remove(sequence)
        }
    }

    // MARK: the pipeline side

    /// Writes a journal group to the kernel at once, without waiting for the disk: a killed
    /// process loses none of it. ``syncJournal()`` makes it survive a power cut.
    func journal(events: Int, body: [UInt8], nowUTC: Int64) {
        guard let store, degraded == nil else { return }
        do {
            try store.journal(events: events, createdUTC: nowUTC, body: body)
            lastJournalID = store.connection.lastInsertRowID
            journalUnsynced = true
        } catch {
            fail(error, nowUTC: nowUTC)
        }
    }

    /// Makes the journal groups written so far durable (one fsync), when durability is full.
    func syncJournal(nowUTC: Int64) {
        guard journalUnsynced, let store, degraded == nil else { return }
        journalUnsynced = false
        guard settings.durability == .full else { return }
        do { try store.meta("journal_synced_utc_ns", nowUTC) } catch { fail(error, nowUTC: nowUTC) }
    }

    func commit(_ batch: SpooledBatch, reported: [SpoolLoss]) {
        precondition(batch.sequence >= nextSequence, "batch \(batch.sequence) reuses a sequence (next is \(nextSequence))")
        let now = batch.createdUTC
        nextSequence = batch.sequence + 1
        var remaining = reported
        for (i, loss) in remaining.enumerated() { remaining[i] = subtractFromMemory(loss) }
        retryIfDegraded(nowUTC: now)
        if let store, degraded == nil, lease.permits(batch.sequence, synced: true) {
            do {
                try store.connection.transaction { () throws(SQLiteError) in
                    try store.insert(batch)
                    try store.clearJournal()
                    try store.advanceSequence(to: nextSequence)
                    for loss in remaining { try store.reported(loss) }
                }
                journalUnsynced = false
                try enforcePolicies(nowUTC: now)
                return
            } catch {
                fail(error, nowUTC: now)
            }
        }
        remember(batch)
        if degraded == nil || memory.contains(where: { !$0.leased }) {
            degraded = "spool and sequence lease unwritable (\(lease.path)); batches held in memory, unsent until the lease is written"
        }
    }

    private func remember(_ batch: SpooledBatch) {
        memory.append((batch, lastJournalID, false))
        memoryBytes += batch.body.count
        while memoryBytes > settings.memoryFallbackBytes, memory.count > 1 {
            let victim = memory.firstIndex { !$0.batch.priority } ?? 0
            let dropped = memory.remove(at: victim).batch
            memoryBytes -= dropped.body.count
            addLoss(SpoolLoss(reason: .spoolFull, batches: 1, events: UInt64(dropped.events)))
        }
        leaseMemory()
    }

    /// Leases the sequences memory holds (a batch becomes sendable once its lease is on disk)
    /// and writes down how much memory holds.
    private func leaseMemory() {
        for i in memory.indices where !memory[i].leased {
            memory[i].leased = lease.permitsHeld(memory[i].batch.sequence, journalThrough: memory[i].journal)
        }
        lease.record(held: heldInMemory)
    }

    /// Batches and events that exist only in this process: the memory queue and its losses.
    private var heldInMemory: SequenceLease.Held {
        var held = SequenceLease.Held(batches: UInt64(memory.count), events: UInt64(memory.reduce(0) { $0 + $1.batch.events }))
        for loss in memoryLosses.values {
            held.batches += loss.batches
            held.events += loss.events
        }
        return held
    }

    private func addLoss(_ loss: SpoolLoss) {
        if let store, degraded == nil, (try? store.addLoss(loss)) != nil { return }
        memoryLosses.add(loss)
    }

    /// Takes what it can of `loss` off the memory losses; returns the rest.
    private func subtractFromMemory(_ loss: SpoolLoss) -> SpoolLoss {
        guard var held = memoryLosses[loss.reason] else { return loss }
        let batches = min(held.batches, loss.batches), events = min(held.events, loss.events)
        held.batches -= batches
        held.events -= events
        memoryLosses[loss.reason] = held.batches == 0 && held.events == 0 ? nil : held
        return SpoolLoss(reason: loss.reason, batches: loss.batches - batches, events: loss.events - events)
    }

    func unreportedLosses() -> [SpoolLoss] {
        var merged = memoryLosses
        for loss in (try? store?.losses()) ?? [] { merged.add(loss) }
        return merged.values.sorted { $0.reason.rawValue < $1.reason.rawValue }
    }

    /// A clean stop: one more try to put memory on disk; what it still holds is counted lost,
    /// on disk if at all possible, else in the lease for the next run to report.
    func close(nowUTC: Int64) {
        if !memory.isEmpty || !memoryLosses.isEmpty { retryIfDegraded(nowUTC: nowUTC, now: true) }
        for held in memory {
            memoryLosses.add(SpoolLoss(reason: .spoolFull, batches: 1, events: UInt64(held.batch.events)))
        }
        memory.removeAll()
        memoryBytes = 0
        if let store, !memoryLosses.isEmpty {
            let losses = Array(memoryLosses.values)
            do {
                try store.connection.transaction { () throws(SQLiteError) in
                    for loss in losses { try store.addLoss(loss) }
                }
                memoryLosses.removeAll()
            } catch {
                degraded = "spool write failed at stop: \(error.message)"
            }
        }
        if memoryLosses.isEmpty, degraded == nil {
            lease.markSynced()
        } else if !lease.unsynced {
            _ = lease.permits(nextSequence, synced: false)
        }
        lease.record(held: heldInMemory)
        syncJournal(nowUTC: nowUTC)
        try? store?.meta("running_boot", "")
    }

    // MARK: policies

    /// Time-to-live first, then the byte cap and the free-space floor: routine batches go
    /// oldest first, priority batches only when no routine one is left. The newest batch stays.
    /// A spool opened only to deliver it (`evicts` off) never drops anything.
    private func enforcePolicies(nowUTC: Int64) throws(SQLiteError) {
        guard let store, settings.evicts else { return }
        try store.connection.transaction { () throws(SQLiteError) in
            for (priority, ttl) in [(false, settings.routineTimeToLive), (true, settings.priorityTimeToLive)] {
                guard let ttl else { continue }
                let expired = try store.connection.prepare(
                    "DELETE FROM batches WHERE priority = ? AND created_utc_ns < ? RETURNING events")
                try expired.bind(1, priority ? 1 : 0)
                try expired.bind(2, nowUTC &- ttl)
                var batches: UInt64 = 0, events: UInt64 = 0
                while try expired.step() { batches += 1; events += UInt64(expired.int64(0)) }
                if batches > 0 { try store.addLoss(SpoolLoss(reason: .expired, batches: batches, events: events)) }
            }
            try store.recount()
            while store.storedBatches > 1, try overLimits(store) {
                var victim = try store.oldest(priority: false)
                if victim == nil { victim = try store.oldest(priority: true) }
                guard let victim else { break }
                // A priority batch may carry gap events: their losses must not vanish with it.
                let carried = try store.batch(victim).map { $0.priority ? Self.lossesCarried(by: $0) : [] } ?? []
                guard let events = try store.delete(victim) else { break }
                try store.addLoss(SpoolLoss(reason: .spoolFull, batches: 1, events: UInt64(events)))
                for loss in carried { try store.addLoss(loss) }
            }
        }
    }

    /// The losses a batch reports in its gap events, to be reported again when it is dropped.
    static func lossesCarried(by batch: SpooledBatch) -> [SpoolLoss] {
        guard let decoded = try? BatchDecoder.decode(batch.body) else { return [] }
        return decoded.events.compactMap { event in
            guard case .gap(let gap) = event else { return nil }
            return SpoolLoss(reason: gap.reason, batches: 0, events: gap.lost)
        }
    }

    private func overLimits(_ store: SpoolStore) throws(SQLiteError) -> Bool {
        if store.storedBytes > settings.maxBytes { return true }
        guard let free = freeDiskBytes(at: path) else { return false }
        return free + (try store.reusableBytes()) < settings.minFreeDiskBytes
    }

    // MARK: the uplink side

    /// Memory batches that may be sent (their sequence is leased on disk).
    private var sendableMemory: some Sequence<SpooledBatch> { memory.lazy.filter(\.leased).map(\.batch) }

    func batches(after: UInt64, limit: Int) -> [SpooledBatch] {
        var found = Array(sendableMemory.filter { $0.sequence > after }.prefix(limit))
        if let store, let stored = try? store.batches(after: after, limit: limit + acknowledgedOnly.count) {
            found.append(contentsOf: stored.filter { !acknowledgedOnly.contains($0.sequence) })
            found.sort { $0.sequence < $1.sequence }
        }
        return Array(found.prefix(limit))
    }

    func sequences(after: UInt64, limit: Int, priorityOnly: Bool) -> [UInt64] {
        var found: [UInt64] = Array(sendableMemory.filter { $0.sequence > after && ($0.priority || !priorityOnly) }
            .map(\.sequence).prefix(limit))
        if let store,
           let stored = try? store.sequences(after: after, limit: limit + acknowledgedOnly.count, priorityOnly: priorityOnly) {
            found.append(contentsOf: stored.filter { !acknowledgedOnly.contains($0) })
            found.sort()
        }
        return Array(found.prefix(limit))
    }

    /// The batch, nil when it is not waiting (acknowledged, dropped, or not yet sendable);
    /// throws when the disk would not give it up.
    func batch(_ sequence: UInt64) throws(SQLiteError) -> SpooledBatch? {
        if let held = memory.first(where: { $0.batch.sequence == sequence }) { return held.leased ? held.batch : nil }
        guard !acknowledgedOnly.contains(sequence) else { return nil }
        return try store?.batch(sequence)
    }

    func acknowledge(_ sequence: UInt64) {
        if let i = memory.firstIndex(where: { $0.batch.sequence == sequence }) {
            memoryBytes -= memory.remove(at: i).batch.body.count
            lease.record(held: heldInMemory)
            return
        }
        guard let store else { return }
        do { try store.deleteAcknowledged(sequence) } catch {
            acknowledgedOnly.insert(sequence)
            // A deletion rolled back at commit leaves the running totals ahead of the file.
            try? store.recount()
            if degraded == nil { fail(error, nowUTC: lastRetryUTC) }
        }
    }

    func deadLetter(_ sequence: UInt64, status: Int, reason: String, nowUTC: Int64) {
        guard let batch = try? batch(sequence) else { return }
        if let store, degraded == nil {
            do {
                try store.connection.transaction { () throws(SQLiteError) in
                    try store.deadLetter(batch, status: status, reason: reason, at: nowUTC)
                    try store.delete(sequence)
                }
                return
            } catch {
                fail(error, nowUTC: nowUTC)
            }
        }
        // No disk to keep it on: it is dropped, and counted.
        acknowledge(sequence)
        addLoss(SpoolLoss(reason: .spoolFull, batches: 1, events: UInt64(batch.events)))
    }

    var depth: Int { (store?.storedBatches ?? 0) - acknowledgedOnly.count + memory.count }

    func status() -> SpoolStatus {
        SpoolStatus(
            path: path, batches: depth,
            events: (store?.storedEvents ?? 0) + memory.reduce(0) { $0 + $1.batch.events },
            bytes: (store?.storedBytes ?? 0) + Int64(memoryBytes), nextSequence: nextSequence,
            oldestSequence: sequences(after: 0, limit: 1, priorityOnly: false).first,
            deadLetters: (try? store?.deadLetterCount()) ?? 0, unreportedLosses: unreportedLosses(),
            memoryBatches: memory.count, degraded: degraded, setAside: setAside)
    }
}

extension [GapReason: SpoolLoss] {
    /// Adds `loss` to the running total of its reason.
    mutating func add(_ loss: SpoolLoss) {
        var total = self[loss.reason] ?? SpoolLoss(reason: loss.reason, batches: 0, events: 0)
        total.batches += loss.batches
        total.events += loss.events
        self[loss.reason] = total
    }
}
