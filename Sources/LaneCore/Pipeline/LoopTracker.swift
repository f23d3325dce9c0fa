/// Turns loop detector edges into vehicles and detector faults.
///
/// Debounce: an edge is accepted only once the level has held for `debounce`; an edge undone
/// sooner is bounce, and both edges are ignored. So acceptance is decided `debounce` after the
/// edge, but the accepted edge keeps its own (kernel) time. Each accepted on → off interval is a
/// vehicle; on the downstream loop of a speed trap it carries speed and length.
///
/// Faults (NTCIP 1202 style) are raised once and cleared once, each stamped with the moment its
/// condition became true or false. While an edge awaits acceptance, a fault due after that edge
/// waits for the verdict, so a vehicle that left in time never raises `max_presence`.
final class LoopTracker {
    private static let erraticWindow: Nanoseconds = .seconds(60)
    private static let upstreamMemory = 8

    private struct Pending {
        var time: MonotonicInstant
        var occupied: Bool
    }

    private struct UpstreamCall {
        var time: MonotonicInstant
        var matched: Bool
    }

    private struct State {
        var occupied = false
        var pending: Pending?
        var onTime = MonotonicInstant.zero
        var lastEdge = MonotonicInstant.zero
        /// Accepted edges so far: a watcher that compares counts misses no call, however short.
        var acceptedEdges: UInt32 = 0
        var raised: Set<DetectorFaultKind> = []
        /// The last `maxActuationsPerMinute + 1` accepted call starts, oldest first.
        var recentCalls: [MonotonicInstant] = []
        /// Recent accepted call starts of an upstream speed-trap loop.
        var upstreamCalls: [UpstreamCall] = []
    }

    private enum Action {
        case accept
        case raise(DetectorFaultKind)
        case clear(DetectorFaultKind)
    }

    private let loops: [LaneLayout.Loop]
    private let trapOf: [LaneLayout.SpeedTrap?]
    private let isUpstream: [Bool]
    private var states: [State]
    private var earliestDue = MonotonicInstant.distantFuture
    private(set) var bounced: UInt64 = 0
    private(set) var repeated: UInt64 = 0

    init(loops: [LaneLayout.Loop], speedTraps: [LaneLayout.SpeedTrap]) {
        self.loops = loops
        var trapOf = [LaneLayout.SpeedTrap?](repeating: nil, count: loops.count)
        var isUpstream = [Bool](repeating: false, count: loops.count)
        for trap in speedTraps {
            trapOf[Int(trap.downstream)] = trap
            isUpstream[Int(trap.upstream)] = true
        }
        self.trapOf = trapOf
        self.isUpstream = isUpstream
        self.states = Array(repeating: State(), count: loops.count)
    }

    /// Starts the fault clocks: "no activity" counts from here.
    /// The loop's accepted state (an edge awaiting acceptance does not count yet), the time of
    /// the edge that set it, and how many edges have been accepted.
    func acceptedState(_ i: Int) -> LoopState {
        LoopState(occupied: states[i].occupied, since: states[i].lastEdge, acceptedEdges: states[i].acceptedEdges)
    }

    func start(at time: MonotonicInstant) {
        for i in states.indices { states[i].lastEdge = time }
        recomputeEarliestDue()
    }

    func record(_ edge: LoopEdge, loop i: LoopIndex, time: MonotonicInstant) {
        let index = Int(i)
        if let pending = states[index].pending {
            if edge.occupied != pending.occupied {
                states[index].pending = nil
                bounced &+= 2
            } else {
                repeated &+= 1
            }
        } else if edge.occupied == states[index].occupied {
            repeated &+= 1
        } else {
            states[index].pending = Pending(time: time, occupied: edge.occupied)
        }
        if let due = nextDue(index), due.time < earliestDue { earliestDue = due.time }
    }

    /// Accepts edges and raises or clears faults due at or before `now`, in time order.
    func advance(to now: MonotonicInstant, into events: inout [LaneEvent]) {
        guard now >= earliestDue else { return }
        while true {
            var best: (loop: Int, time: MonotonicInstant, action: Action)?
            for i in states.indices {
                guard let due = nextDue(i), due.time <= now else { continue }
                if best == nil || due.time < best!.time { best = (i, due.time, due.action) }
            }
            guard let best else { break }
            apply(best.action, loop: best.loop, at: best.time, into: &events)
        }
        recomputeEarliestDue()
    }

    /// End of input: accept every edge still waiting, as if the level held; fault clocks stop.
    func settle(into events: inout [LaneEvent]) {
        let waiting = states.indices.compactMap { i in states[i].pending.map { (i, $0.time) } }
        for (i, time) in waiting.sorted(by: { $0.1 < $1.1 }) {
            apply(.accept, loop: i, at: time, into: &events)
        }
        recomputeEarliestDue()
    }

    private func recomputeEarliestDue() {
        earliestDue = states.indices.compactMap { nextDue($0)?.time }.min() ?? .distantFuture
    }

    private func nextDue(_ i: Int) -> (time: MonotonicInstant, action: Action)? {
        let s = states[i]
        let loop = loops[i]
        var best: (time: MonotonicInstant, action: Action)?
        func consider(_ time: MonotonicInstant, _ action: Action) {
            if best == nil || time < best!.time { best = (time, action) }
        }
        if let pending = s.pending { consider(pending.time.advanced(by: loop.debounce), .accept) }
        func considerFault(_ time: MonotonicInstant, _ action: Action) {
            // A fault due after a pending edge waits for that edge's verdict.
            if let pending = s.pending, pending.time <= time { return }
            consider(time, action)
        }
        if loop.noActivityAfter > 0, !s.occupied, !s.raised.contains(.noActivity) {
            considerFault(s.lastEdge.advanced(by: loop.noActivityAfter), .raise(.noActivity))
        }
        if loop.maxPresence > 0, s.occupied, !s.raised.contains(.maxPresence) {
            considerFault(s.onTime.advanced(by: loop.maxPresence), .raise(.maxPresence))
        }
        if s.raised.contains(.erraticCounts), let oldest = s.recentCalls.first {
            considerFault(oldest.advanced(by: Self.erraticWindow), .clear(.erraticCounts))
        }
        return best
    }

    private func apply(_ action: Action, loop i: Int, at time: MonotonicInstant, into events: inout [LaneEvent]) {
        switch action {
        case .raise(let kind):
            states[i].raised.insert(kind)
            events.append(.detectorFault(DetectorFault(loop: LoopIndex(i), kind: kind, raised: true, time: time)))
        case .clear(let kind):
            states[i].raised.remove(kind)
            events.append(.detectorFault(DetectorFault(loop: LoopIndex(i), kind: kind, raised: false, time: time)))
        case .accept:
            guard let pending = states[i].pending else { return }
            states[i].pending = nil
            states[i].occupied = pending.occupied
            states[i].lastEdge = pending.time
            states[i].acceptedEdges &+= 1
            if pending.occupied { acceptCall(loop: i, at: pending.time, into: &events) }
            else { acceptRelease(loop: i, at: pending.time, into: &events) }
        }
    }

    private func acceptCall(loop i: Int, at time: MonotonicInstant, into events: inout [LaneEvent]) {
        states[i].onTime = time
        if states[i].raised.contains(.noActivity) { apply(.clear(.noActivity), loop: i, at: time, into: &events) }
        if isUpstream[i] {
            states[i].upstreamCalls.append(UpstreamCall(time: time, matched: false))
            if states[i].upstreamCalls.count > Self.upstreamMemory { states[i].upstreamCalls.removeFirst() }
        }
        let limit = loops[i].maxActuationsPerMinute
        guard limit > 0 else { return }
        states[i].recentCalls.append(time)
        if states[i].recentCalls.count > limit + 1 { states[i].recentCalls.removeFirst() }
        let calls = states[i].recentCalls
        if calls.count == limit + 1, time.since(calls[0]) < Self.erraticWindow, !states[i].raised.contains(.erraticCounts) {
            apply(.raise(.erraticCounts), loop: i, at: time, into: &events)
        }
    }

    private func acceptRelease(loop i: Int, at time: MonotonicInstant, into events: inout [LaneEvent]) {
        let onTime = states[i].onTime
        var passage = VehiclePassage(loop: LoopIndex(i), onTime: onTime, offTime: time)
        if let trap = trapOf[i], let travel = matchUpstreamCall(trap, downstreamOn: onTime) {
            let speed = trap.spacing / (Double(travel) / 1e9)
            passage.speed = speed
            if loops[i].mode == .presence {
                // Shorter than nothing means the call ended before the vehicle could have
                // crossed the loop (a chattering or mis-sized loop): no length is better than a
                // negative one.
                let length = speed * (Double(time.since(onTime)) / 1e9) - loops[i].loopLength
                if length > 0 { passage.length = length }
            }
        }
        events.append(.vehicle(passage))
        if states[i].raised.contains(.maxPresence) { apply(.clear(.maxPresence), loop: i, at: time, into: &events) }
    }

    /// The travel time from the latest unmatched upstream call that started before the downstream
    /// call and within the trap's maximum travel time; that call is then used up.
    private func matchUpstreamCall(_ trap: LaneLayout.SpeedTrap, downstreamOn: MonotonicInstant) -> Nanoseconds? {
        let u = Int(trap.upstream)
        guard let k = states[u].upstreamCalls.lastIndex(where: {
            !$0.matched && $0.time < downstreamOn && downstreamOn.since($0.time) <= trap.maxTravelTime
        }) else { return nil }
        states[u].upstreamCalls[k].matched = true
        return downstreamOn.since(states[u].upstreamCalls[k].time)
    }
}
