/// Joins what a lane saw of one vehicle into one ``PassageRecord``: the call on the lane's
/// passage loop, the tags and seals that arrived at the lane's passage read points, and the
/// plate its camera read, all within `window` of the call.
///
/// A part nothing saw stays empty. A read belongs to the latest call on the loop that started
/// before it (or, within the window, to the first call after it): once the next vehicle is on
/// the loop, what the booth reads is the next vehicle's. Each read joins one passage at most.
/// For the plate, the read nearest the call's start is taken (a camera reads once per
/// vehicle, triggered as it crosses). A passage is emitted once "now" is a second past its
/// window (so a call that began inside the window is known), timed at the call's off edge.
final class PassageAssembler {
    private let rules: [LaneLayout.PassageRule]
    /// loop → rule, `noRule` where the loop anchors none.
    private let ruleOfLoop: [Int]
    /// read point → rules that join it.
    private let rulesOfReadPoint: [[Int]]
    private static let noRule = -1
    /// The longest window of any rule: how far back a read can still be claimed.
    private let longestWindow: Nanoseconds

    private struct Open {
        var record: PassageRecord
        var rule: Int
        var closesAt: MonotonicInstant
    }

    private struct Candidate<Value> {
        var value: Value
        var readPoint: ReadPointIndex
        var time: MonotonicInstant
    }

    private var open: [Open] = []
    /// Reads not yet joined, kept until no passage could still claim them.
    private var tags: [Candidate<TagID>] = []
    private var seals: [Candidate<SealID>] = []
    private var plates: [Candidate<PlateRead>] = []
    /// Tags and seals joined lately, and when: a truck still at the booth whose seal drops out
    /// and is heard again as the next vehicle crosses the loop is not the next vehicle's.
    private var joinedTags: [TagID: MonotonicInstant] = [:]
    private var joinedSeals: [SealID: MonotonicInstant] = [:]
    private static let rejoinAfter: Nanoseconds = .minutes(2)

    init(layout: LaneLayout) {
        rules = layout.passages
        var byLoop = [Int](repeating: Self.noRule, count: layout.loops.count)
        var byPoint = [[Int]](repeating: [], count: layout.readPoints.count)
        for (r, rule) in layout.passages.enumerated() {
            if Int(rule.loop) < byLoop.count { byLoop[Int(rule.loop)] = r }
            for point in rule.readPoints where Int(point) < byPoint.count { byPoint[Int(point)].append(r) }
        }
        ruleOfLoop = byLoop
        rulesOfReadPoint = byPoint
        longestWindow = layout.passages.map(\.window).max() ?? 0
    }

    var isIdle: Bool { rules.isEmpty }

    /// Takes in the events the pipeline made since the last call (`events[from...]`), and
    /// appends the passages whose windows closed by `now`.
    /// `callStart` gives the start of the call on a loop now, if a vehicle is on it.
    func observe(_ events: inout [LaneEvent], from: Int, now: MonotonicInstant, callStart: (LoopIndex) -> MonotonicInstant?) {
        guard !rules.isEmpty else { return }
        var i = from
        let end = events.count
        while i < end {
            switch events[i] {
            case .vehicle(let v) where Int(v.loop) < ruleOfLoop.count && ruleOfLoop[Int(v.loop)] != Self.noRule:
                let rule = ruleOfLoop[Int(v.loop)]
                open.append(Open(record: PassageRecord(loop: v.loop, onTime: v.onTime, offTime: v.offTime),
                                 rule: rule, closesAt: v.offTime.advanced(by: rules[rule].window)))
            case .tagArrived(let a) where joins(a.readPoint):
                tags.append(Candidate(value: a.tag, readPoint: a.readPoint, time: a.time))
            case .sealSeen(let s) where joins(s.readPoint):
                seals.append(Candidate(value: s.seal, readPoint: s.readPoint, time: s.time))
            case .plateRead(let p) where joins(p.readPoint):
                plates.append(Candidate(value: p, readPoint: p.readPoint, time: p.time))
            default: break
            }
            i += 1
        }
        close(upTo: now.advanced(by: -Self.settle), into: &events, callStart: callStart)
    }

    /// Edges are accepted after their debounce: a call that began in a window is surely known
    /// this long after the window closed.
    private static let settle: Nanoseconds = .seconds(1)

    /// End of input: every open passage is closed with what it has.
    func finish(into events: inout [LaneEvent]) {
        close(upTo: .distantFuture, into: &events) { _ in nil }
    }

    private func joins(_ point: ReadPointIndex) -> Bool {
        Int(point) < rulesOfReadPoint.count && !rulesOfReadPoint[Int(point)].isEmpty
    }

    private func close(upTo now: MonotonicInstant, into events: inout [LaneEvent], callStart: (LoopIndex) -> MonotonicInstant?) {
        guard !open.isEmpty else {
            forget(before: now)
            return
        }
        open.sort { $0.record.onTime < $1.record.onTime }
        var kept: [Open] = []
        for var passage in open {
            guard passage.closesAt < now else {
                kept.append(passage)
                continue
            }
            let rule = rules[passage.rule]
            let from = passage.record.onTime.advanced(by: -rule.window)
            // The next call on the loop ends this one's claim.
            let start = passage.record.onTime
            let nextCall = (open.lazy.filter { $0.rule == passage.rule && $0.record.onTime > start }.map(\.record.onTime).min()
                ?? callStart(passage.record.loop).flatMap { $0 > start ? $0 : nil })
            let until = min(passage.closesAt, nextCall ?? .distantFuture)
            func inWindow(_ point: ReadPointIndex, _ time: MonotonicInstant) -> Bool {
                rule.readPoints.contains(point) && time >= from && (time < until || (nextCall == nil && time <= until))
            }
            passage.record.tags = unique(claim(&tags) { inWindow($0.readPoint, $0.time) }, joined: &joinedTags, at: start)
            passage.record.seals = unique(claim(&seals) { inWindow($0.readPoint, $0.time) }, joined: &joinedSeals, at: start)
            let nearest = plates.indices.filter { inWindow(plates[$0].readPoint, plates[$0].time) }
                .min { abs(plates[$0].time.since(passage.record.onTime)) < abs(plates[$1].time.since(passage.record.onTime)) }
            if let nearest {
                passage.record.plate = plates[nearest].value.plate
                passage.record.plateConfidence = plates[nearest].value.confidence
                passage.record.plateMissed = plates[nearest].value.plate == nil
                plates.remove(at: nearest)
            }
            events.append(.passage(passage.record))
        }
        open = kept
        forget(before: now)
    }

    /// Reads older than every window that could still open: no passage can claim them.
    private func forget(before now: MonotonicInstant) {
        // A passage opens at its call's off edge, up to a loop's max presence after its start;
        // keep reads for twice the window past the oldest open call, or past now.
        let horizon = (open.map(\.record.onTime).min() ?? now).advanced(by: -2 * longestWindow - .minutes(10))
        tags.removeAll { $0.time < horizon }
        seals.removeAll { $0.time < horizon }
        plates.removeAll { $0.time < horizon }
        // A reader that reads thousands of tags with no vehicle on the loop (a loop cut) must
        // not grow memory: the oldest unclaimed reads go first.
        if tags.count > Self.maxWaiting { tags.removeFirst(tags.count - Self.maxWaiting) }
        if seals.count > Self.maxWaiting { seals.removeFirst(seals.count - Self.maxWaiting) }
        if plates.count > Self.maxWaiting { plates.removeFirst(plates.count - Self.maxWaiting) }
    }

    private static let maxWaiting = 4096

    /// The values not joined to a passage within ``rejoinAfter``, each once, now joined at `time`.
    private func unique<Value: Hashable>(_ taken: [Candidate<Value>], joined: inout [Value: MonotonicInstant],
                                         at time: MonotonicInstant) -> [Value] {
        var out: [Value] = []
        for candidate in taken where !out.contains(candidate.value) {
            if let last = joined[candidate.value], time.since(last) < Self.rejoinAfter { continue }
            out.append(candidate.value)
        }
        for value in out { joined[value] = time }
        if joined.count > Self.maxWaiting {
            joined = joined.filter { time.since($0.value) < Self.rejoinAfter }
        }
        return out
    }

    private func claim<Value>(_ list: inout [Candidate<Value>], _ matches: (Candidate<Value>) -> Bool) -> [Candidate<Value>] {
        let taken = list.filter(matches)
        if !taken.isEmpty { list.removeAll(where: matches) }
        return taken
    }
}
