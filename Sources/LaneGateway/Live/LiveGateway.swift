import LaneCore
import LaneDevices
import LaneSpool
import LaneWire
import Logging
import Synchronization

/// The pipeline thread of a running gateway: drains the device rings through the live
/// pipeline, batches the lane events and commits them to the spool, and journals what the open
/// batch gains on every pass, before anything shows or counts it, so a crash loses none of it
/// (and fsyncs the journal once a second, for a power cut). `progress.turns` grows on every pass of its
/// loop: the watchdog is fed only while it does. What it makes is also kept in `activity` for
/// `lanegate monitor`.
public final class LiveGateway: Sendable {
    public let progress = Progress()
    private let stopSignal = StopSignal()
    private let thread = Mutex<DedicatedThread?>(nil)

    /// Starts the thread at once. The rings' consumer ends are claimed here.
    public init(config: GatewayConfig, pseudonymizer: TagPseudonymizer?, rings: [SPSCRing<Detection>],
                board: DeviceStatusBoard, spool: Spool, activity: LaneActivity, plates: PlateInbox? = nil,
                dictionaryUse: DictionaryUse? = nil, logger: Logger) {
        let work = Work(config: config, pseudonymizer: pseudonymizer, rings: rings, board: board, spool: spool,
                        activity: activity, plates: plates, dictionaryUse: dictionaryUse, logger: logger)
        let started = DedicatedThread(name: "pipeline") { [stopSignal, progress] in
            work.run(stop: stopSignal, progress: progress)
        }
        thread.withLock { $0 = started }
    }

    /// Drains what the devices delivered, commits the open batch, and ends the thread.
    public func stop() {
        stopSignal.set()
        thread.withLock { thread in
            thread?.join()
            thread = nil
        }
    }

    /// What the pipeline thread has done, for the watchdog and the status line.
    public final class Progress: Sendable {
        /// Passes of the loop.
        public let turns = Atomic<UInt64>(0)
        /// Lane events handed to the batcher.
        public let events = Atomic<UInt64>(0)
    }

    /// Owned by the pipeline thread alone.
    private final class Work: @unchecked Sendable {
        let live: LivePipeline
        let batches: BatchAssembler
        let layout: LaneLayout
        let logger: Logger
        var events: [LaneEvent] = []

        init(config: GatewayConfig, pseudonymizer: TagPseudonymizer?, rings: [SPSCRing<Detection>],
             board: DeviceStatusBoard, spool: Spool, activity: LaneActivity, plates: PlateInbox?,
             dictionaryUse: DictionaryUse?, logger: Logger) {
            live = LivePipeline(pipeline: LanePipeline(layout: config.layout, pseudonymizer: pseudonymizer), rings: rings, board: board,
                                activity: activity, plates: plates)
            batches = BatchAssembler(config: config, spool: spool, bootID: KernelBoot.id, dictionaryUse: dictionaryUse)
            layout = config.layout
            self.logger = logger
            events.reserveCapacity(256)
        }

        func run(stop: StopSignal, progress: Progress) {
            var lastSync = MonotonicInstant.now()
            while !stop.isSet {
                let now = MonotonicInstant.now()
                live.step(now: now, into: &events) { made in hand(over: made, now: now, progress: progress) }
                events.removeAll(keepingCapacity: true)
                let batchTime = live.pipeline.now ?? now
                if batches.isDue(now: batchTime) { close(batchTime) }
                // Journal groups are in the kernel already; once a second they go to the disk.
                if now.since(lastSync) >= .seconds(1) {
                    batches.syncJournal(nowUTC: ClockAnchor.now().utcNanoseconds)
                    lastSync = now
                }
                progress.turns.add(1, ordering: .relaxed)
                _ = stop.sleep(.milliseconds(20))
            }
            let now = MonotonicInstant.now()
            live.drain(into: &events) { made in hand(over: made, now: now, progress: progress) }
            events.removeAll(keepingCapacity: true)
            close(now)
        }

        /// Batches the events of one pass and journals what the open batch gained, before the
        /// monitor shows them or anything counts them: a kill -9 right after loses none.
        private func hand(over made: ArraySlice<LaneEvent>, now: MonotonicInstant, progress: Progress) {
            let batchTime = live.pipeline.now ?? now
            for event in made {
                if case .deviceStatus(let change) = event { log(change) }
                if batches.add(event, now: batchTime) { close(batchTime) }
            }
            batches.journal(anchor: ClockAnchor.now())
            progress.events.add(UInt64(made.count), ordering: .relaxed)
        }

        private func close(_ now: MonotonicInstant) {
            batches.close(now: now, counters: live.pipeline.counters, anchor: ClockAnchor.now())
        }

        private func log(_ change: DeviceStatusChange) {
            let name = layout.deviceName(change.device)
            let text: Logger.Message = "\(name) \(change.state.name): \(change.detail)"
            switch change.state {
            case .lost, .error: logger.warning(text)
            default: logger.info(text)
            }
        }
    }
}
