import LaneCore
import Synchronization

/// The recent life of each lane, kept for `lanegate monitor` from what the pipeline thread makes:
/// loop states, vehicles, tag visits, seals, raised detector faults and lost data. Bounded (a few
/// visits and seals per lane), so a busy booth does not grow it; lane events are a few a second,
/// so one lock per batch of them costs the pipeline nothing it would notice.
public final class LaneActivity: Sendable {
    /// Visits, and seals, kept per lane.
    public static let recentPerLane = 8

    public let layout: LaneLayout
    /// Lanes in the order the configuration first names them.
    public let laneNames: [String]
    private let laneOfReadPoint: [Int]
    private let laneOfLoop: [Int]
    /// Upstream loops of speed traps: their vehicles carry no speed, and the downstream loop
    /// reports the same vehicle, so the lane counts it there.
    private let isUpstreamLoop: [Bool]
    private let state: Mutex<State>

    public init(layout: LaneLayout) {
        self.layout = layout
        var names: [String] = []
        func lane(_ name: String) -> Int {
            if let i = names.firstIndex(of: name) { return i }
            names.append(name)
            return names.count - 1
        }
        laneOfReadPoint = layout.readPoints.map { lane($0.lane) }
        laneOfLoop = layout.loops.map { lane($0.lane) }
        laneNames = names
        var upstream = [Bool](repeating: false, count: layout.loops.count)
        for trap in layout.speedTraps { upstream[Int(trap.upstream)] = true }
        isUpstreamLoop = upstream
        state = Mutex(State(lanes: Array(repeating: LaneRecord(), count: names.count),
                            loops: Array(repeating: LoopRecord(), count: layout.loops.count)))
    }

    /// Takes in the lane events of one pipeline pass (device status changes are the board's).
    public func record(_ events: some Collection<LaneEvent>) {
        guard !events.isEmpty else { return }
        state.withLock { state in
            for event in events { apply(event, to: &state) }
        }
    }

    /// A loop's accepted state changed (see ``LoopWatch``).
    func setLoop(_ loop: Int, occupied: Bool, at time: MonotonicInstant) {
        state.withLock { state in
            state.loops[loop].occupied = occupied
            state.loops[loop].since = time
        }
    }

    /// The lanes as the monitor shows them, with ages measured from `now`; and the alerts.
    public func snapshot(now: MonotonicInstant) -> (lanes: [MonitorSnapshot.Lane], alerts: [String]) {
        let state = state.withLock { $0 }
        func age(_ time: MonotonicInstant) -> Double { max(0, Double(now.since(time)) / 1e9) }
        let lanes = laneNames.indices.map { lane in
            let record = state.lanes[lane]
            let loops = layout.loops.indices.filter { laneOfLoop[$0] == lane }.map { i in
                MonitorSnapshot.Loop(name: layout.loops[i].name, occupied: state.loops[i].occupied,
                                     sinceSeconds: state.loops[i].since.map(age),
                                     faults: DetectorFaultKind.allCases.filter { state.loops[i].faults.contains($0) }.map(\.name))
            }
            return MonitorSnapshot.Lane(
                name: laneNames[lane], loops: loops, vehicles: record.vehicles,
                lastVehicle: record.lastVehicle.map {
                    .init(loop: layout.loops[Int($0.loop)].name, agoSeconds: age($0.offTime), speed: $0.speed, length: $0.length)
                },
                lastPlate: record.lastPlate.map { read in
                    let plate: String? = switch read.plate {
                    case .pseudonym(let bytes): bytes.lowercaseHex
                    case .raw(let text): text.shown
                    case nil: nil
                    }
                    return .init(readPoint: layout.readPoints[Int(read.readPoint)].name, plate: plate,
                                 confidence: read.confidence.map { Double($0) / 1000 }, agoSeconds: age(read.time))
                },
                visits: record.visits.reversed().map { visit in
                    .init(readPoint: layout.readPoints[Int(visit.readPoint)].name, tag: visit.tag.hex, present: visit.present,
                          reads: visit.reads, peakRSSI: Int(visit.peakRSSI),
                          antennas: (0..<64).filter { port in visit.antennas >> port & 1 == 1 }, agoSeconds: age(visit.time))
                },
                seals: record.seals.reversed().map {
                    .init(readPoint: layout.readPoints[Int($0.readPoint)].name, seal: $0.seal.description,
                          status: $0.status.description, present: $0.present, rssi: $0.rssi.map(Int.init), agoSeconds: age($0.time))
                })
        }
        var alerts: [String] = []
        for (i, loop) in state.loops.enumerated() {
            for kind in DetectorFaultKind.allCases where loop.faults.contains(kind) {
                alerts.append("\(layout.loops[i].name): \(kind.name)")
            }
        }
        if state.lost > 0, let gap = state.lastGap {
            let device = gap.device.flatMap { Int($0.rawValue) < layout.devices.count ? layout.devices[Int($0.rawValue)].name : nil }
            alerts.append("data lost: \(state.lost) in all, last \(gap.reason.name)\(device.map { " on " + $0 } ?? "") \(Int(age(gap.time))) s ago")
        }
        return (lanes, alerts)
    }

    private func apply(_ event: LaneEvent, to state: inout State) {
        switch event {
        case .tagArrived(let e):
            let visit = VisitRecord(readPoint: e.readPoint, tag: e.tag, present: true, reads: nil, peakRSSI: e.peakRSSI,
                                    antennas: e.antennas, time: e.time)
            state.lanes[laneOfReadPoint[Int(e.readPoint)]].keep(visit, in: \.visits) { _ in false }
        case .tagDeparted(let e):
            let visit = VisitRecord(readPoint: e.readPoint, tag: e.tag, present: false, reads: e.readCount, peakRSSI: e.peakRSSI,
                                    antennas: e.antennas, time: e.lastSeen)
            state.lanes[laneOfReadPoint[Int(e.readPoint)]].keep(visit, in: \.visits) {
                $0.present && $0.readPoint == e.readPoint && $0.tag == e.tag
            }
        case .sealSeen(let e):
            keepSeal(e.seal, at: e.readPoint, status: e.status, present: true, rssi: e.rssi, time: e.time, in: &state)
        case .sealChanged(let e):
            keepSeal(e.seal, at: e.readPoint, status: e.status, present: true, rssi: nil, time: e.time, in: &state)
        case .sealDeparted(let e):
            keepSeal(e.seal, at: e.readPoint, status: e.status, present: false, rssi: nil, time: e.lastSeen, in: &state)
        case .vehicle(let e):
            guard !isUpstreamLoop[Int(e.loop)] else { return }
            let lane = laneOfLoop[Int(e.loop)]
            state.lanes[lane].vehicles += 1
            state.lanes[lane].lastVehicle = e
        case .detectorFault(let e):
            if e.raised { state.loops[Int(e.loop)].faults.insert(e.kind) } else { state.loops[Int(e.loop)].faults.remove(e.kind) }
        case .gap(let e):
            state.lost &+= e.lost
            state.lastGap = e
        case .plateRead(let e):
            state.lanes[laneOfReadPoint[Int(e.readPoint)]].lastPlate = e
        case .passage:
            break
        case .deviceStatus:
            break
        }
    }

    /// A seal's newest state at its read point; a report without RSSI (a status change, a
    /// departure) keeps the one last heard.
    private func keepSeal(_ seal: SealID, at readPoint: ReadPointIndex, status: SealStatus, present: Bool, rssi: Int8?,
                          time: MonotonicInstant, in state: inout State) {
        let lane = laneOfReadPoint[Int(readPoint)]
        let isThisSeal = { (record: SealRecord) in record.readPoint == readPoint && record.seal == seal }
        let heard = rssi ?? state.lanes[lane].seals.last(where: isThisSeal)?.rssi
        let record = SealRecord(readPoint: readPoint, seal: seal, status: status, present: present, rssi: heard, time: time)
        state.lanes[lane].keep(record, in: \.seals, replacing: isThisSeal)
    }

    private struct State {
        var lanes: [LaneRecord]
        var loops: [LoopRecord]
        var lost: UInt64 = 0
        var lastGap: Gap?
    }

    private struct LoopRecord {
        var occupied = false
        var since: MonotonicInstant?
        var faults: Set<DetectorFaultKind> = []
    }

    private struct VisitRecord {
        var readPoint: ReadPointIndex
        var tag: TagID
        var present: Bool
        var reads: UInt32?
        var peakRSSI: Int8
        var antennas: UInt64
        var time: MonotonicInstant
    }

    private struct SealRecord {
        var readPoint: ReadPointIndex
        var seal: SealID
        var status: SealStatus
        var present: Bool
        var rssi: Int8?
        var time: MonotonicInstant
    }

    /// Oldest first in storage; the snapshot turns them round.
    private struct LaneRecord {
        var visits: [VisitRecord] = []
        var seals: [SealRecord] = []
        var vehicles = 0
        var lastVehicle: VehiclePassage?
        var lastPlate: PlateRead?

        /// Puts `record` last (newest), in place of the one `replaces` finds, and keeps the
        /// newest ``LaneActivity/recentPerLane``.
        mutating func keep<Record>(_ record: Record, in list: WritableKeyPath<LaneRecord, [Record]>,
                                   replacing replaces: (Record) -> Bool) {
            if let old = self[keyPath: list].lastIndex(where: replaces) { self[keyPath: list].remove(at: old) }
            self[keyPath: list].append(record)
            if self[keyPath: list].count > LaneActivity.recentPerLane { self[keyPath: list].removeFirst() }
        }
    }
}

/// Owned by a pipeline thread: tells ``LaneActivity`` when a loop's accepted state changes. It
/// compares edge counts with what it told last, so a call that began and ended within one pass
/// is still seen, and a pass in which no loop switched takes no lock.
public struct LoopWatch {
    private var told: [UInt32]

    public init(loops: Int) { told = Array(repeating: 0, count: loops) }

    public mutating func look(at pipeline: LanePipeline, for activity: LaneActivity) {
        for i in told.indices {
            let state = pipeline.loopState(LoopIndex(i))
            if state.acceptedEdges != told[i] {
                told[i] = state.acceptedEdges
                activity.setLoop(i, occupied: state.occupied, at: state.since)
            }
        }
    }
}
