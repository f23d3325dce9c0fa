import LaneCore

/// How hard a commit works to survive a power cut.
public enum SpoolDurability: String, Sendable, CaseIterable {
    /// `synchronous=FULL`: every commit is fsynced before it returns. A committed batch survives
    /// a power cut; the loss window is what had not been committed yet.
    case full
    /// `synchronous=NORMAL` (WAL): commits are fsynced at checkpoints only. The spool never
    /// corrupts, but the commits of the last moments before a power cut (typically under a
    /// second) can be lost. Fewer flash writes.
    case normal
}

/// Limits and policies of one spool.
public struct SpoolSettings: Sendable, Hashable {
    public var durability: SpoolDurability
    /// Cap on the stored batch bytes (compressed wire bytes). Over it, batches are dropped by
    /// policy: routine ones oldest first, priority ones (seal changes, faults, losses) last.
    public var maxBytes: Int64
    /// Keep at least this much of the filesystem free (counting pages the spool can reuse).
    public var minFreeDiskBytes: Int64
    /// Drop routine batches older than this; nil keeps them until they are acknowledged.
    public var routineTimeToLive: Nanoseconds?
    /// Drop priority batches older than this; nil keeps them until they are acknowledged.
    public var priorityTimeToLive: Nanoseconds?
    /// Batches held in memory while the disk refuses writes (full, read-only, failing).
    public var memoryFallbackBytes: Int
    /// Whether the policies above may drop batches. Off for a tool that only delivers a spool
    /// (`lanegate send`): it must never throw away the backlog it was asked to deliver.
    public var evicts = true

    public init(durability: SpoolDurability = .full, maxBytes: Int64 = 1 << 30, minFreeDiskBytes: Int64 = 256 << 20,
                routineTimeToLive: Nanoseconds? = nil, priorityTimeToLive: Nanoseconds? = nil,
                memoryFallbackBytes: Int = 16 << 20) {
        self.durability = durability
        self.maxBytes = maxBytes
        self.minFreeDiskBytes = minFreeDiskBytes
        self.routineTimeToLive = routineTimeToLive
        self.priorityTimeToLive = priorityTimeToLive
        self.memoryFallbackBytes = memoryFallbackBytes
    }
}

/// One batch as the spool holds it: wire bytes ready to send, and what the policies need.
public struct SpooledBatch: Sendable, Hashable {
    public var sequence: UInt64
    public var priority: Bool
    public var events: Int
    /// UTC nanoseconds when the batch was committed (for time-to-live and inspection).
    public var createdUTC: Int64
    /// zstd-compressed `lanegate.v1.Batch`, exactly as it is sent.
    public var body: [UInt8]

    public init(sequence: UInt64, priority: Bool, events: Int, createdUTC: Int64, body: [UInt8]) {
        self.sequence = sequence
        self.priority = priority
        self.events = events
        self.createdUTC = createdUTC
        self.body = body
    }
}

/// Data the spool had to give up and has not yet reported upstream, by reason.
public struct SpoolLoss: Sendable, Hashable {
    public var reason: GapReason
    public var batches: UInt64
    public var events: UInt64

    public init(reason: GapReason, batches: UInt64, events: UInt64) {
        self.reason = reason
        self.batches = batches
        self.events = events
    }
}

extension EventBatch {
    /// Adds one gap event per spool loss (lost = events), which makes the batch a priority one.
    public mutating func reportLosses(_ losses: [SpoolLoss], at time: MonotonicInstant) {
        for loss in losses {
            events.append(.gap(Gap(time: time, reason: loss.reason, device: nil, lost: loss.events)))
            priority = true
        }
    }
}
