#if canImport(Glibc)
import Glibc
#endif
import LaneCore
import LaneSQLite

/// A waiting batch could not be read back.
public struct SpoolReadError: Error, Sendable, CustomStringConvertible {
    public var sequence: UInt64
    public var message: String
    public var description: String { "batch \(sequence) could not be read: \(message)" }
}

/// What the spool holds and how it is doing, for status lines, metrics and `lanegate spool status`.
public struct SpoolStatus: Sendable, Hashable {
    public var path: String
    public var batches: Int
    public var events: Int
    public var bytes: Int64
    public var nextSequence: UInt64
    public var oldestSequence: UInt64?
    public var deadLetters: Int
    /// Losses not yet reported upstream.
    public var unreportedLosses: [SpoolLoss]
    /// Batches held in memory because the disk refused them.
    public var memoryBatches: Int
    /// Why the spool is not writing to disk, when it is not; nil when healthy.
    public var degraded: String?
    /// A spool file found unusable at start and moved aside (corrupt, or another gateway's).
    public var setAside: String?
}

/// The durable queue between the batcher and the uplink: SQLite in WAL mode. A batch is
/// committed before it is sent and deleted only once the collector acknowledged it.
///
/// The spool never stops the daemon: a disk that is full, read-only or failing sends it into a
/// degraded mode (batches kept in a bounded memory queue, every drop counted) from which it
/// recovers by itself; a corrupt file is moved aside and a new one started, the loss recorded.
/// All methods are safe to call from any thread; calls are serialized.
public final class Spool: Sendable {
    public let path: String
    public let settings: SpoolSettings
    /// A pthread lock rather than `Mutex`: the pipeline thread and the spool's own thread share
    /// it, and the ThreadSanitizer run must see the lock to check them.
    private let engine: PThreadLocked<SpoolEngine>

    /// Opens the spool at `path` for `gatewayID`, recovering what a crash left in the journal.
    /// `bootID` is this kernel boot's (``KernelBoot/id``): a last run that never stopped cleanly
    /// under another boot lost power, and the spool reports it.
    public init(path: String, gatewayID: String, settings: SpoolSettings = SpoolSettings(), nowUTC: Int64,
                bootID: String = KernelBoot.id) {
        self.path = path
        self.settings = settings
        engine = PThreadLocked(SpoolEngine(path: path, gatewayID: gatewayID, settings: settings, nowUTC: nowUTC, bootID: bootID))
    }

    /// The sequence the next committed batch must carry.
    public var nextSequence: UInt64 { engine.withLock { $0.nextSequence } }

    /// Records events of the still-open batch (an uncompressed `lanegate.v1.Batch` whose
    /// sequence is ignored), so a crash before the batch closes loses none of them. Groups are
    /// promoted to batches of their own when the spool next opens.
    ///
    /// The group reaches the kernel before this returns, so a killed process loses none of it;
    /// ``syncJournal(nowUTC:)`` makes what was journaled survive a power cut too.
    public func journal(events: Int, body: [UInt8], nowUTC: Int64) {
        engine.withLock { $0.journal(events: events, body: body, nowUTC: nowUTC) }
    }

    /// One fsync for every journal group written since the last: call it about once a second,
    /// which bounds what a power cut can take (with `durability = full`).
    public func syncJournal(nowUTC: Int64) { engine.withLock { $0.syncJournal(nowUTC: nowUTC) } }

    /// A clean stop: puts what memory holds on disk if it can, counts the rest as lost, and
    /// notes that the run ended cleanly (a run that does not is taken for a power cut when the
    /// machine has booted since).
    public func close(nowUTC: Int64) { engine.withLock { $0.close(nowUTC: nowUTC) } }

    /// Commits a closed batch (its sequence must be ``nextSequence``), clears the journal, and
    /// marks `reported` losses as sent (they travel as gap events inside this batch). Then
    /// applies the size, free-space and time-to-live policies.
    public func commit(_ batch: SpooledBatch, reported: [SpoolLoss] = []) {
        engine.withLock { $0.commit(batch, reported: reported) }
    }

    /// Losses not yet reported upstream: the batcher turns them into gap events.
    public func unreportedLosses() -> [SpoolLoss] { engine.withLock { $0.unreportedLosses() } }

    /// Up to `limit` batches with a sequence above `after`, oldest first (bounded memory for
    /// backlogs of any size).
    public func batches(after: UInt64, limit: Int) -> [SpooledBatch] {
        engine.withLock { $0.batches(after: after, limit: limit) }
    }

    /// Sequence numbers only, for choosing what to send without reading bodies.
    public func sequences(after: UInt64, limit: Int, priorityOnly: Bool = false) -> [UInt64] {
        engine.withLock { $0.sequences(after: after, limit: limit, priorityOnly: priorityOnly) }
    }

    /// One batch by sequence, when it is still waiting; throws when the disk will not give it up.
    public func batch(_ sequence: UInt64) throws(SpoolReadError) -> SpooledBatch? {
        do { return try engine.withLock { engine throws(SQLiteError) in try engine.batch(sequence) } } catch {
            throw SpoolReadError(sequence: sequence, message: error.message)
        }
    }

    /// The collector stored the batch: forget it.
    public func acknowledge(_ sequence: UInt64) { engine.withLock { $0.acknowledge(sequence) } }

    /// The collector refused the batch for good (4xx): keep it aside, counted and inspectable.
    public func deadLetter(_ sequence: UInt64, status: Int, reason: String, nowUTC: Int64) {
        engine.withLock { $0.deadLetter(sequence, status: status, reason: reason, nowUTC: nowUTC) }
    }

    public func status() -> SpoolStatus { engine.withLock { $0.status() } }

    /// Batches waiting (file and memory): cheap, from running totals.
    public var depth: Int { engine.withLock { $0.depth } }
}
