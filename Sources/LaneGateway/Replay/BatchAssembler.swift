import LaneCore
import LaneSpool
import LaneWire

/// From lane events to committed batches: the batcher, the encoder and the spool, with what the
/// spool had to drop riding along as gap events. Replay and the live daemon share it, so a
/// replayed trace batches exactly as the booth would have.
final class BatchAssembler {
    private var batcher: Batcher
    private let encoder: BatchEncoder
    let spool: Spool?
    /// Events added since the last journal write: the next journal group.
    private var unjournaled: [LaneEvent] = []

    /// `bootID` names the kernel boot the events' monotonic times belong to (empty for a replayed
    /// trace, whose times come from elsewhere); `dictionaryUse` is shared with the uplink.
    init(config: GatewayConfig, spool: Spool?, bootID: String = "", dictionaryUse: DictionaryUse? = nil) {
        self.spool = spool
        batcher = Batcher(policy: config.batchPolicy, firstSequence: spool?.nextSequence ?? 1)
        encoder = BatchEncoder(gatewayID: config.gatewayID, layout: config.layout, bootID: bootID, dictionaryUse: dictionaryUse)
    }

    var openCount: Int { batcher.openCount }

    /// Adds `event`; true when the open batch is now due to close.
    func add(_ event: LaneEvent, now: MonotonicInstant) -> Bool {
        batcher.add(event, now: now)
        if spool != nil { unjournaled.append(event) }
        return batcher.isDue(now: now)
    }

    func isDue(now: MonotonicInstant) -> Bool { batcher.isDue(now: now) }

    /// Closes the open batch, encodes it and commits it to the spool; the batch and its wire
    /// bytes, or nil when nothing was open.
    @discardableResult
    func close(now: MonotonicInstant, counters: PipelineCounters, anchor: ClockAnchor) -> (batch: EventBatch, body: [UInt8])? {
        guard var batch = batcher.close(now: now, counters: counters, anchor: anchor) else { return nil }
        let losses = spool?.unreportedLosses() ?? []
        batch.reportLosses(losses, at: now)
        let body = encoder.encode(batch)
        spool?.commit(SpooledBatch(sequence: batch.sequence, priority: batch.priority, events: batch.events.count,
                                   createdUTC: ClockAnchor.now().utcNanoseconds, body: body), reported: losses)
        unjournaled.removeAll(keepingCapacity: true)
        return (batch, body)
    }

    /// Makes the journal written so far durable against a power cut (one fsync).
    func syncJournal(nowUTC: Int64) { spool?.syncJournal(nowUTC: nowUTC) }

    /// Writes the events added since the last call to the spool's journal, so a crash before
    /// the batch closes loses none of them.
    func journal(anchor: ClockAnchor) {
        guard let spool, !unjournaled.isEmpty else { return }
        let group = EventBatch(sequence: 0, events: unjournaled, counters: nil, anchor: anchor, priority: false)
        spool.journal(events: unjournaled.count, body: encoder.journaled(group), nowUTC: anchor.utcNanoseconds)
        unjournaled.removeAll(keepingCapacity: true)
    }
}
