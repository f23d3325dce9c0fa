#if canImport(Glibc)
import Glibc
#endif
import LaneCore
import LaneSQLite
import LaneWire

/// The spool's state and policies; ``Spool`` serializes every call into it.
final class SpoolEngine {
    let path: String
    let gatewayID: String
    let settings: SpoolSettings
    private var store: SpoolStore?
    private var lease: SequenceLease
    private(set) var nextSequence: UInt64 = 1
    /// Batches the disk refused, oldest first, waiting for the disk or the uplink.
    private var memory: [SpooledBatch] = []
    private var memoryBytes = 0
    /// Losses that could not be written to the spool file yet.
    private var memoryLosses: [GapReason: SpoolLoss] = [:]
    private(set) var degraded: String?
    private var setAside: String?
    private var lastRetryUTC: Int64 = .min
    /// Retry a refusing disk at most this often.
    static let retryInterval: Int64 = 10_000_000_000

    init(path: String, gatewayID: String, settings: SpoolSettings, nowUTC: Int64) {
        self.path = path
        self.gatewayID = gatewayID
        self.settings = settings
        lease = SequenceLease(path: path + ".sequence")
        open(nowUTC: nowUTC)
    }

    // MARK: opening, recovery, degradation

    /// Opens the file; an unreadable or foreign one is moved aside and a new one started.
    private func open(nowUTC: Int64, afterMovingAside: Bool = false) {
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
            if lease.unsynced && memory.isEmpty {
                // The last run held batches in memory when it stopped; they may never have been sent.
                addLoss(SpoolLoss(reason: .spoolFull, batches: 0, events: 0))
            }
            try recoverJournal(opened)
            try flushMemory()
            try opened.advanceSequence(to: nextSequence)
            lease.markSynced()
            try enforcePolicies(nowUTC: nowUTC)
        } catch {
            store = nil
            // Unreadable counter: the lease is above every sequence handed out.
            nextSequence = max(nextSequence, lease.limit)
            degraded = "spool unavailable: \(error.message)"
            if (error.isCorruption || error.isForeign) && !afterMovingAside {
                moveAside(reason: error, nowUTC: nowUTC)
                open(nowUTC: nowUTC, afterMovingAside: true)
            }
        }
    }

    /// A crash left events of an unclosed batch in the journal: each group becomes a batch.
    private func recoverJournal(_ store: SpoolStore) throws(SQLiteError) {
        let groups = try store.journalGroups()
        guard !groups.isEmpty else { return }
        try store.connection.transaction { () throws(SQLiteError) in
            for group in groups {
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
    }

    private func retryIfDegraded(nowUTC: Int64) {
        guard degraded != nil, nowUTC - lastRetryUTC >= Self.retryInterval else { return }
        lastRetryUTC = nowUTC
        guard let store else { return open(nowUTC: nowUTC) }
        do {
            try flushMemory()
            try store.advanceSequence(to: nextSequence)
            lease.markSynced()
            degraded = nil
        } catch {
            fail(error, nowUTC: nowUTC)
        }
    }

    /// Writes the memory queue and memory losses to the file in one transaction.
    private func flushMemory() throws(SQLiteError) {
        guard let store, !memory.isEmpty || !memoryLosses.isEmpty else { return }
        try store.connection.transaction { () throws(SQLiteError) in
            for batch in memory { try store.insert(batch) }
            for loss in memoryLosses.values { try store.addLoss(loss) }
        }
        memory.removeAll()
        memoryBytes = 0
        memoryLosses.removeAll()
    }

    // MARK: the pipeline side

    func journal(events: Int, body: [UInt8], nowUTC: Int64) {
        guard let store, degraded == nil else { return }
        do { try store.journal(events: events, createdUTC: nowUTC, body: body) } catch { fail(error, nowUTC: nowUTC) }
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
                try enforcePolicies(nowUTC: now)
                return
            } catch {
                fail(error, nowUTC: now)
            }
        }
        if !lease.permits(batch.sequence, synced: false) {
            degraded = "spool and sequence lease unwritable (\(lease.path)); batches held in memory"
        }
        remember(batch)
    }

    private func remember(_ batch: SpooledBatch) {
        memory.append(batch)
        memoryBytes += batch.body.count
        while memoryBytes > settings.memoryFallbackBytes, memory.count > 1 {
            let victim = memory.firstIndex { !$0.priority } ?? 0
            let dropped = memory.remove(at: victim)
            memoryBytes -= dropped.body.count
            addLoss(SpoolLoss(reason: .spoolFull, batches: 1, events: UInt64(dropped.events)))
        }
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

    // MARK: policies

    /// Time-to-live first, then the byte cap and the free-space floor: routine batches go
    /// oldest first, priority batches only when no routine one is left. The newest batch stays.
    private func enforcePolicies(nowUTC: Int64) throws(SQLiteError) {
        guard let store else { return }
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

    func batches(after: UInt64, limit: Int) -> [SpooledBatch] {
        var found = memory.filter { $0.sequence > after }.prefix(limit)
        if let store, let stored = try? store.batches(after: after, limit: limit) {
            found.append(contentsOf: stored)
            found.sort { $0.sequence < $1.sequence }
        }
        return Array(found.prefix(limit))
    }

    func sequences(after: UInt64, limit: Int, priorityOnly: Bool) -> [UInt64] {
        var found: [UInt64] = Array(memory.lazy.filter { $0.sequence > after && ($0.priority || !priorityOnly) }
            .map(\.sequence).prefix(limit))
        if let store, let stored = try? store.sequences(after: after, limit: limit, priorityOnly: priorityOnly) {
            found.append(contentsOf: stored)
            found.sort()
        }
        return Array(found.prefix(limit))
    }

    func batch(_ sequence: UInt64) -> SpooledBatch? {
        if let held = memory.first(where: { $0.sequence == sequence }) { return held }
        return try? store?.batch(sequence)
    }

    func acknowledge(_ sequence: UInt64) {
        if let i = memory.firstIndex(where: { $0.sequence == sequence }) {
            memoryBytes -= memory.remove(at: i).body.count
            return
        }
        do { try store?.deleteAcknowledged(sequence) } catch { fail(error, nowUTC: lastRetryUTC) }
    }

    func deadLetter(_ sequence: UInt64, status: Int, reason: String, nowUTC: Int64) {
        guard let batch = batch(sequence) else { return }
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

    var depth: Int { (store?.storedBatches ?? 0) + memory.count }

    func status() -> SpoolStatus {
        SpoolStatus(
            path: path, batches: depth,
            events: (store?.storedEvents ?? 0) + memory.reduce(0) { $0 + $1.events },
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
