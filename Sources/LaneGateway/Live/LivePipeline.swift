import LaneCore
import LaneDevices

/// The pipeline thread's work in a running gateway: drain every device's ring, put detections
/// from different devices back in time order, run the lane pipeline, and turn device status
/// changes and ring overflows into events.
///
/// With an `activity`, every pass also keeps the lanes' recent life for `lanegate monitor`: the
/// events it made and any loop that switched.
///
/// Devices deliver late by different amounts (a reader reports once per search cycle; a GPIO
/// edge arrives at once), so detections wait `holdBack` before they are processed in time
/// order. Anything later than that still counts, as a late detection.
public final class LivePipeline {
    public let pipeline: LanePipeline
    public let holdBack: Nanoseconds
    public static let defaultHoldBack: Nanoseconds = .milliseconds(500)
    private let consumers: [ConsumerBox]
    private let board: DeviceStatusBoard
    private let activity: LaneActivity?
    private var loops: LoopWatch
    private var waiting: [Detection] = []
    private var ready: [Detection] = []
    /// Plate reads wait out the same hold-back, and go through in time order with the detections.
    private let plates: PlateInbox?
    private var platesWaiting: [PlateSighting] = []

    public init(pipeline: LanePipeline, rings: [SPSCRing<Detection>], board: DeviceStatusBoard,
                holdBack: Nanoseconds = LivePipeline.defaultHoldBack, activity: LaneActivity? = nil, plates: PlateInbox? = nil) {
        self.pipeline = pipeline
        self.plates = plates
        self.consumers = rings.map { ConsumerBox(RingConsumer($0)) }
        self.board = board
        self.holdBack = holdBack
        self.activity = activity
        loops = LoopWatch(loops: pipeline.layout.loops.count)
        waiting.reserveCapacity(4096)
        ready.reserveCapacity(4096)
    }

    /// One turn of the loop at local time `now`; returns how many detections it took in.
    /// `keep` is handed the events this turn made before the monitor is shown them: what a
    /// technician sees has already been written down.
    @discardableResult
    public func step(now: MonotonicInstant = .now(), into events: inout [LaneEvent],
                     keep: (ArraySlice<LaneEvent>) -> Void = { _ in }) -> Int {
        step(upTo: now.advanced(by: -holdBack), advancing: true, into: &events, keep: keep)
    }

    /// Shutdown: everything the devices delivered is processed now, without waiting out the
    /// hold-back; visits still present stay open (a restart sees them arrive again).
    public func drain(into events: inout [LaneEvent], keep: (ArraySlice<LaneEvent>) -> Void = { _ in }) {
        _ = step(upTo: .distantFuture, advancing: false, into: &events, keep: keep)
    }

    /// End of input: everything waiting is processed and every visit closed. Time
    /// does not run on, so no fault clock fires for the future.
    public func finish(into events: inout [LaneEvent]) {
        _ = step(upTo: .distantFuture, advancing: false, into: &events)
        pipeline.finish(into: &events)
    }

    private func step(upTo horizon: MonotonicInstant, advancing: Bool, into events: inout [LaneEvent],
                      keep: (ArraySlice<LaneEvent>) -> Void = { _ in }) -> Int {
        let made = events.count
        var taken = 0
        for (index, box) in consumers.enumerated() {
            taken += box.consumer.popBatch(limit: .max) { waiting.append($0) }
            let drops = box.consumer.takeDrops()
            if drops > 0 { pipeline.recordRingDrops(device: DeviceIndex(UInt16(index)), count: drops, into: &events) }
        }
        if let plates {
            let before = platesWaiting.count
            for (device, drops) in plates.take(into: &platesWaiting).sorted(by: { $0.key < $1.key }) {
                pipeline.recordRingDrops(device: device, count: drops, into: &events)
            }
            taken += platesWaiting.count - before
        }
        for change in board.takeChanges() { events.append(.deviceStatus(change)) }
        process(upTo: horizon, advancing: advancing, into: &events)
        if events.count > made { keep(events[made...]) }
        if let activity {
            activity.record(events[made...])
            loops.look(at: pipeline, for: activity)
        }
        return taken
    }

    private func process(upTo horizon: MonotonicInstant, advancing: Bool, into events: inout [LaneEvent]) {
        if !waiting.isEmpty || !platesWaiting.isEmpty {
            waiting.sort { $0.time < $1.time }
            let due = waiting.partitioningIndex { $0.time > horizon }
            ready.append(contentsOf: waiting[..<due])
            waiting.removeSubrange(..<due)
            platesWaiting.sort { $0.time < $1.time }
            let platesDue = platesWaiting.partitioningIndex { $0.time > horizon }
            var p = 0
            for detection in ready {
                while p < platesDue, platesWaiting[p].time <= detection.time {
                    pipeline.process(platesWaiting[p], into: &events)
                    p += 1
                }
                pipeline.process(detection, into: &events)
            }
            while p < platesDue {
                pipeline.process(platesWaiting[p], into: &events)
                p += 1
            }
            platesWaiting.removeSubrange(..<platesDue)
            ready.removeAll(keepingCapacity: true)
        }
        if advancing && horizon > .zero { pipeline.advance(to: horizon, into: &events) }
    }
}

/// Noncopyable ring ends cannot live in an array; a box per ring can.
private final class ConsumerBox {
    var consumer: RingConsumer<Detection>
    init(_ consumer: consuming RingConsumer<Detection>) { self.consumer = consumer }
}

extension Array {
    /// The index of the first element for which `belongs` is true, given that the array is
    /// partitioned (all false, then all true).
    func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if belongs(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
