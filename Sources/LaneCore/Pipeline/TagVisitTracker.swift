/// Collapses the stream of reads of each tag at each read point into one visit:
/// `tag_arrived` once `min_reads` reads have come with no gap longer than `depart_after` between
/// them (stamped with the first read's time), `tag_departed` once no read has come for longer than
/// `depart_after`. A candidate that never reaches `min_reads` is dropped and counted as noise.
final class TagVisitTracker {
    struct Key: Hashable {
        var tag: TagID
        var readPoint: ReadPointIndex
    }

    struct Visit {
        var firstSeen: MonotonicInstant
        var readCount: UInt32
        var peakRSSI: Int8
        var antennas: UInt64
        var present: Bool
        /// The id events carry: the EPC, or its pseudonym (computed once, on arrival).
        var published: TagID
    }

    private let table: PresenceTable<Key, Visit>
    private let minReads: [UInt32]
    private let pseudonymizer: TagPseudonymizer?
    private(set) var noise: UInt64 = 0
    private(set) var evicted: UInt64 = 0

    init(readPoints: [LaneLayout.ReadPoint], capacity: Int, pseudonymizer: TagPseudonymizer?) {
        table = PresenceTable(windows: readPoints.map(\.departAfter), capacity: capacity)
        minReads = readPoints.map { max(1, $0.minReads) }
        self.pseudonymizer = pseudonymizer
    }

    var tracked: Int { table.count }

    func record(_ read: TagRead, at readPoint: ReadPointIndex, time: MonotonicInstant, into events: inout [LaneEvent]) {
        let key = Key(tag: read.tag, readPoint: readPoint)
        let antennaBit: UInt64 = read.antenna < 64 ? 1 << UInt64(read.antenna) : 0
        let slot: Int32
        if let existing = table.find(key) {
            slot = existing
            table.touch(slot, at: time)
            table.update(slot) { visit in
                visit.readCount &+= 1
                if read.rssi > visit.peakRSSI { visit.peakRSSI = read.rssi }
                visit.antennas |= antennaBit
            }
        } else {
            if table.isFull, let oldest = table.popLeastRecent() { evict(oldest, into: &events) }
            let visit = Visit(firstSeen: time, readCount: 1, peakRSSI: read.rssi, antennas: antennaBit,
                              present: false, published: read.tag)
            slot = table.insert(key, group: readPoint, at: time, state: visit)
        }
        let visit = table.state(slot)
        guard !visit.present, visit.readCount >= minReads[Int(readPoint)] else { return }
        let published = pseudonymizer?.pseudonym(for: read.tag) ?? read.tag
        table.update(slot) {
            $0.present = true
            $0.published = published
        }
        events.append(.tagArrived(TagArrival(readPoint: readPoint, tag: published, time: visit.firstSeen,
                                              peakRSSI: visit.peakRSSI, antennas: visit.antennas)))
    }

    /// Emits the departures (and drops the noise) of everything quiet for longer than its window.
    func expire(now: MonotonicInstant, into events: inout [LaneEvent]) {
        while let entry = table.popExpired(now: now) {
            if entry.state.present {
                events.append(.tagDeparted(departure(of: entry, evicted: false)))
            } else {
                noise &+= 1
            }
        }
    }

    private func evict(_ entry: PresenceTable<Key, Visit>.Slot, into events: inout [LaneEvent]) {
        evicted &+= 1
        if entry.state.present { events.append(.tagDeparted(departure(of: entry, evicted: true))) }
    }

    private func departure(of entry: PresenceTable<Key, Visit>.Slot, evicted: Bool) -> TagDeparture {
        let v = entry.state
        return TagDeparture(readPoint: entry.key.readPoint, tag: v.published, firstSeen: v.firstSeen,
                            lastSeen: entry.lastSeen, readCount: v.readCount, peakRSSI: v.peakRSSI,
                            antennas: v.antennas, evicted: evicted)
    }
}
