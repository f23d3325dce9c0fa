/// From raw detections to lane events: routes each detection to its read point or loop and runs
/// the dedup and loop logic.
///
/// "Now" is the latest detection time seen, moved on by ``advance(to:into:)`` ticks in the live
/// daemon, so replaying a trace gives the same events every time. Single-threaded by design: the
/// pipeline thread owns it.
public final class LanePipeline {
    public let layout: LaneLayout
    private let tags: TagVisitTracker
    private let seals: SealTracker
    private let loops: LoopTracker
    private let pseudonymizer: TagPseudonymizer?
    private let passages: PassageAssembler
    /// `device << 8 | port` → read point, `noReadPoint` where none.
    private let readPointOfAntenna: [ReadPointIndex]
    /// `device` → (line → loop).
    private let loopOfLine: [[UInt16: LoopIndex]]
    private static let noReadPoint = ReadPointIndex.max

    public private(set) var now: MonotonicInstant?
    private var counts = PipelineCounters()

    public init(layout: LaneLayout, pseudonymizer: TagPseudonymizer? = nil) {
        self.layout = layout
        tags = TagVisitTracker(readPoints: layout.readPoints, capacity: max(1, layout.maxTrackedTags),
                               pseudonymizer: pseudonymizer)
        seals = SealTracker(readPoints: layout.readPoints, capacity: max(1, layout.maxTrackedSeals))
        loops = LoopTracker(loops: layout.loops, speedTraps: layout.speedTraps)
        self.pseudonymizer = pseudonymizer
        passages = PassageAssembler(layout: layout)

        var antennaMap = [ReadPointIndex](repeating: Self.noReadPoint, count: layout.devices.count << 8)
        for (r, point) in layout.readPoints.enumerated() {
            for antenna in point.antennas where Int(antenna.device.rawValue) < layout.devices.count {
                antennaMap[Int(antenna.device.rawValue) << 8 | Int(antenna.port)] = ReadPointIndex(r)
            }
        }
        readPointOfAntenna = antennaMap
        var lineMap = [[UInt16: LoopIndex]](repeating: [:], count: layout.devices.count)
        for (l, loop) in layout.loops.enumerated() where Int(loop.device.rawValue) < layout.devices.count {
            lineMap[Int(loop.device.rawValue)][loop.line] = LoopIndex(l)
        }
        loopOfLine = lineMap
    }

    public var counters: PipelineCounters {
        var c = counts
        c.noise = tags.noise
        c.evictedTags = tags.evicted
        c.evictedSeals = seals.evicted
        c.bouncedEdges = loops.bounced
        c.repeatedEdges = loops.repeated
        return c
    }

    /// Tags and seals currently tracked (present or candidate).
    public var tracked: (tags: Int, seals: Int) { (tags.tracked, seals.tracked) }

    /// Whether a call holds on `loop` now, as the debounce accepted it, and since when.
    public func loopState(_ loop: LoopIndex) -> LoopState { loops.acceptedState(Int(loop)) }

    public func process(_ detection: Detection, into events: inout [LaneEvent]) {
        let made = events.count
        defer { joinPassages(&events, from: made) }
        counts.detections &+= 1
        let time = detection.time
        if let current = now, time < current { counts.late &+= 1 } else { moveOn(to: time, into: &events) }
        let device = Int(detection.device.rawValue)
        switch detection.payload {
        case .tag(let read):
            counts.tagReads &+= 1
            guard let point = readPoint(device: device, port: read.antenna) else { return }
            tags.record(read, at: point, time: time, into: &events)
        case .seal(let report):
            counts.sealReports &+= 1
            guard let point = readPoint(device: device, port: report.antenna) else { return }
            seals.record(report, at: point, time: time, into: &events)
        case .loop(let edge):
            counts.loopEdges &+= 1
            guard device < loopOfLine.count, let loop = loopOfLine[device][edge.line] else {
                counts.unmapped &+= 1
                return
            }
            loops.record(edge, loop: loop, time: time)
        }
    }

    /// A camera's plate read becomes a `plate_read` event on the read point its (camera, channel)
    /// belongs to. The plate is pseudonymised with the site key unless the camera keeps raw plates.
    public func process(_ sighting: PlateSighting, into events: inout [LaneEvent]) {
        let made = events.count
        defer { joinPassages(&events, from: made) }
        counts.plateReads &+= 1
        if let current = now, sighting.time < current { counts.late &+= 1 } else { moveOn(to: sighting.time, into: &events) }
        guard let point = readPoint(device: Int(sighting.device.rawValue), port: sighting.channel) else { return }
        let keepRaw = Int(sighting.device.rawValue) < layout.devices.count && layout.devices[Int(sighting.device.rawValue)].keepsRawPlates
        let plate: PlateKey? = sighting.plate.map { plate in
            guard !keepRaw, let pseudonymizer else { return .raw(plate) }
            return .pseudonym(pseudonymizer.pseudonym(forPlate: plate))
        }
        events.append(.plateRead(PlateRead(readPoint: point, time: sighting.time, plate: plate, confidence: sighting.confidence,
                                           region: sighting.region, picture: sighting.picture)))
    }

    /// Moves "now" forward: departures, edge acceptance and faults due by then are emitted.
    public func advance(to time: MonotonicInstant, into events: inout [LaneEvent]) {
        let made = events.count
        moveOn(to: time, into: &events)
        joinPassages(&events, from: made)
    }

    private func moveOn(to time: MonotonicInstant, into events: inout [LaneEvent]) {
        guard let current = now else {
            now = time
            loops.start(at: time)
            return
        }
        guard time > current else { return }
        now = time
        tags.expire(now: time, into: &events)
        seals.expire(now: time, into: &events)
        loops.advance(to: time, into: &events)
    }

    /// A driver's ring overflowed: the loss becomes a `gap` event and a counter.
    public func recordRingDrops(device: DeviceIndex, count: UInt64, into events: inout [LaneEvent]) {
        guard count > 0 else { return }
        counts.ringDrops &+= count
        events.append(.gap(Gap(time: now ?? .zero, reason: .ringOverflow, device: device, lost: count)))
    }

    /// End of input (a replayed trace, or shutdown): time runs on silently until every visit has
    /// departed and every waiting edge is accepted. Fault clocks do not run on.
    public func finish(into events: inout [LaneEvent]) {
        let made = events.count
        loops.settle(into: &events)
        tags.expire(now: .distantFuture, into: &events)
        seals.expire(now: .distantFuture, into: &events)
        joinPassages(&events, from: made)
        passages.finish(into: &events)
    }

    /// Passage records take in what was just made; cheap when no lane has a passage rule.
    @inline(__always)
    private func joinPassages(_ events: inout [LaneEvent], from made: Int) {
        guard !passages.isIdle, let now else { return }
        passages.observe(&events, from: made, now: now) { [loops] loop in
            let state = loops.acceptedState(Int(loop))
            return state.occupied ? state.since : nil
        }
    }

    @inline(__always)
    private func readPoint(device: Int, port: UInt8) -> ReadPointIndex? {
        let slot = device << 8 | Int(port)
        guard slot < readPointOfAntenna.count, readPointOfAntenna[slot] != Self.noReadPoint else {
            counts.unmapped &+= 1
            return nil
        }
        return readPointOfAntenna[slot]
    }
}

/// A loop detector input as the pipeline has accepted it.
public struct LoopState: Sendable, Hashable {
    public var occupied: Bool
    /// The accepted edge's own time (the start of the pipeline's clock before the first).
    public var since: MonotonicInstant
    /// Edges accepted so far.
    public var acceptedEdges: UInt32
}
