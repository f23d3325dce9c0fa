/// Collapses an e-seal's repeated reports at a read point: `seal_seen` on the first report,
/// `seal_changed` at once on any status change (a priority event), `seal_departed` after silence
/// longer than the read point's `depart_after`.
final class SealTracker {
    struct Key: Hashable {
        var seal: SealID
        var readPoint: ReadPointIndex
    }

    struct Presence {
        var firstSeen: MonotonicInstant
        var status: SealStatus
        var reportCount: UInt32
    }

    private let table: PresenceTable<Key, Presence>
    private(set) var evicted: UInt64 = 0

    init(readPoints: [LaneLayout.ReadPoint], capacity: Int) {
        table = PresenceTable(windows: readPoints.map(\.departAfter), capacity: capacity)
    }

    var tracked: Int { table.count }

    func record(_ report: SealReport, at readPoint: ReadPointIndex, time: MonotonicInstant, into events: inout [LaneEvent]) {
        let key = Key(seal: report.seal, readPoint: readPoint)
        guard let slot = table.find(key) else {
            if table.isFull, let oldest = table.popLeastRecent() {
                evicted &+= 1
                events.append(.sealDeparted(departure(of: oldest, evicted: true)))
            }
            _ = table.insert(key, group: readPoint, at: time,
                             state: Presence(firstSeen: time, status: report.status, reportCount: 1))
            events.append(.sealSeen(SealSighting(
                readPoint: readPoint, seal: report.seal, time: time, status: report.status,
                eventCount: report.eventCount, eventTime: report.eventTime, rssi: report.rssi)))
            return
        }
        table.touch(slot, at: time)
        let previous = table.state(slot).status
        table.update(slot) {
            $0.reportCount &+= 1
            $0.status = report.status
        }
        if previous != report.status {
            events.append(.sealChanged(SealChange(
                readPoint: readPoint, seal: report.seal, time: time, previous: previous, status: report.status,
                eventCount: report.eventCount, eventTime: report.eventTime)))
        }
    }

    func expire(now: MonotonicInstant, into events: inout [LaneEvent]) {
        while let entry = table.popExpired(now: now) {
            events.append(.sealDeparted(departure(of: entry, evicted: false)))
        }
    }

    private func departure(of entry: PresenceTable<Key, Presence>.Slot, evicted: Bool) -> SealDeparture {
        SealDeparture(readPoint: entry.key.readPoint, seal: entry.key.seal, firstSeen: entry.state.firstSeen,
                      lastSeen: entry.lastSeen, reportCount: entry.state.reportCount, status: entry.state.status,
                      evicted: evicted)
    }
}
