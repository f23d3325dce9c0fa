/// When an open batch closes.
public struct BatchPolicy: Sendable, Hashable {
    /// An open batch closes this long (pipeline time) after its first event went in.
    public var window: Nanoseconds
    /// ... or when it holds this many events.
    public var maxEvents: Int
    /// The cumulative counters ride along at least this often (pipeline time), and at once
    /// whenever a loss counter moved.
    public var countersInterval: Nanoseconds

    /// 5 s by default: live wait times, lane monitoring and alarms need events at the collector
    /// within seconds. What small batches cost on the wire is for the wire to win back, never
    /// the user's wait.
    public init(window: Nanoseconds = .seconds(5), maxEvents: Int = 4096, countersInterval: Nanoseconds = .seconds(300)) {
        self.window = window
        self.maxEvents = maxEvents
        self.countersInterval = countersInterval
    }
}

/// A closed batch: the unit that is spooled, sent and acknowledged.
public struct EventBatch: Sendable, Hashable {
    /// Per gateway, strictly increasing, never reused.
    public var sequence: UInt64
    public var events: [LaneEvent]
    /// The pipeline's counters when the batch closed (cumulative since the pipeline started);
    /// nil when nothing was lost since the last batch that carried them and they are not yet due.
    public var counters: PipelineCounters?
    public var anchor: ClockAnchor
    /// Holds at least one priority event: it travels ahead of routine batches.
    public var priority: Bool

    public init(sequence: UInt64, events: [LaneEvent], counters: PipelineCounters?, anchor: ClockAnchor, priority: Bool) {
        self.sequence = sequence
        self.events = events
        self.counters = counters
        self.anchor = anchor
        self.priority = priority
    }
}

/// Gathers lane events into batches by a time window and a size cap. A priority event closes the
/// open batch at once, so an alarm never waits for the window.
public struct Batcher: Sendable {
    public let policy: BatchPolicy
    public private(set) var nextSequence: UInt64
    private var open: [LaneEvent] = []
    private var openedAt: MonotonicInstant?
    private var holdsPriority = false
    private var countersSent: (counters: PipelineCounters, at: MonotonicInstant)?

    public init(policy: BatchPolicy = BatchPolicy(), firstSequence: UInt64 = 1) {
        self.policy = policy
        self.nextSequence = firstSequence
        open.reserveCapacity(policy.maxEvents)
    }

    public var openCount: Int { open.count }

    public mutating func add(_ event: LaneEvent, now: MonotonicInstant) {
        if openedAt == nil { openedAt = now }
        open.append(event)
        if event.isPriority { holdsPriority = true }
    }

    /// True when the open batch should close at `now`.
    public func isDue(now: MonotonicInstant) -> Bool {
        guard let openedAt, !open.isEmpty else { return false }
        return holdsPriority || open.count >= policy.maxEvents || now.since(openedAt) >= policy.window
    }

    /// Closes the open batch (if it holds anything) and gives it the next sequence number.
    public mutating func close(now: MonotonicInstant, counters: PipelineCounters, anchor: ClockAnchor) -> EventBatch? {
        guard !open.isEmpty else { return nil }
        var attached: PipelineCounters? = nil
        if let sent = countersSent, !counters.lossDiffers(from: sent.counters),
           now.since(sent.at) < policy.countersInterval {
            attached = nil
        } else {
            attached = counters
            countersSent = (counters, now)
        }
        let batch = EventBatch(sequence: nextSequence, events: open, counters: attached, anchor: anchor,
                               priority: holdsPriority)
        nextSequence += 1
        open.removeAll(keepingCapacity: true)
        openedAt = nil
        holdsPriority = false
        return batch
    }
}
