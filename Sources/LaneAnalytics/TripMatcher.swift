/// Builds trips from tag visits: a tag's visit at the queue end, followed by its next visit at a
/// booth within the wait bound and at the exit within the crossing bound.
///
/// The result depends on the set of visits only, never on the order they arrived in: a backlog
/// landing hours late re-runs the same function over the complete set, so the archive is
/// corrected and nothing is counted twice.
public struct TripMatcher: Sendable {
    public var layout: PortLayout
    /// Two queue-end visits of a tag closer than this, with no booth between, are one stay (a
    /// slow queue under the reader, a read gap): the first one starts the trip.
    public var sameStay: Int64 = 120 * seconds
    /// Booth visits of one tag overlapping within this are one vehicle read by two booths'
    /// readers; the one with more reads (then the stronger peak RSSI) is its lane.
    public var crossReadOverlap: Int64 = 5 * seconds

    public init(layout: PortLayout) { self.layout = layout }

    public struct Report: Sendable, Hashable {
        public var visits = 0
        /// Visits at read points outside the port's route.
        public var foreign = 0
        /// Booth or exit visits with no queue-end visit before them within the bound.
        public var unmatched = 0
        public var crossReads = 0
        public init() {}
    }

    public func trips(from visits: [TagVisit]) -> (trips: [Trip], report: Report) {
        var report = Report()
        var byTag: [String: [(TagVisit, PortPoint)]] = [:]
        let points = layout.pointsByPlace
        for v in visits {
            report.visits += 1
            guard let point = points[v.place] else { report.foreign += 1; continue }
            byTag[v.tag, default: []].append((v, point))
        }
        var trips: [Trip] = []
        for (tag, tagVisits) in byTag {
            let ordered = tagVisits.sorted { ($0.0.first, $0.0.place) < ($1.0.first, $1.0.place) }
            match(tag: tag, ordered, into: &trips, report: &report)
        }
        trips.sort { ($0.queueEnd, $0.tag) < ($1.queueEnd, $1.tag) }
        return (trips, report)
    }

    /// A trip being put together: its queue-end stay and, once read there, its booth visit.
    private struct Partial {
        var queue: TagVisit
        var queuePoint: PortPoint
        var booth: (visit: TagVisit, point: PortPoint)?
        var note: String?
    }

    private func match(tag: String, _ visits: [(TagVisit, PortPoint)], into trips: inout [Trip], report: inout Report) {
        var current: Partial?
        func finish(exit: UTCNanoseconds? = nil) {
            guard let c = current else { return }
            current = nil
            guard c.booth != nil || exit != nil else { return }
            let laneType = c.booth?.point.laneType ?? c.queuePoint.laneType ?? "unknown"
            trips.append(Trip(tag: tag, laneType: laneType, lane: c.booth?.point.lane, queueEnd: c.queue.first,
                              booth: c.booth?.visit.first, exit: exit, note: c.note))
        }
        for (visit, point) in visits {
            switch point.stage {
            case .queueEnd:
                if let c = current, c.booth == nil, visit.first - c.queue.last <= sameStay {
                    current?.queue.last = max(c.queue.last, visit.last)
                    continue
                }
                finish()
                current = Partial(queue: visit, queuePoint: point)
            case .booth:
                guard let c = current, visit.first - c.queue.first <= layout.bounds.maxWait else {
                    finish()
                    report.unmatched += 1
                    continue
                }
                if let held = c.booth {
                    guard visit.first <= held.visit.last + crossReadOverlap else { continue }
                    report.crossReads += 1
                    if (visit.reads, visit.peakRSSI) > (held.visit.reads, held.visit.peakRSSI) { current?.booth = (visit, point) }
                    current?.note = "read at two booths; kept the one with more reads"
                } else {
                    current?.booth = (visit, point)
                }
            case .exit:
                guard let c = current, visit.first - c.queue.first <= layout.bounds.maxCrossing else {
                    finish()
                    report.unmatched += 1
                    continue
                }
                finish(exit: visit.first)
            }
        }
        finish()
    }
}
