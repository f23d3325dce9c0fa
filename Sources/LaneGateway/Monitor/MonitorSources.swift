import LaneCore
import LaneDevices
import LaneSpool
import LaneUplink

/// What a ``MonitorSnapshot`` is made from: the parts of a running gateway (`lanegate run`), or
/// of the monitor's own device session when the daemon is stopped (no spool, no uplink).
public struct MonitorSources: Sendable {
    public var gateway: String
    /// `daemon` or `direct`.
    public var source: String
    public var activity: LaneActivity
    public var board: DeviceStatusBoard
    public var counters: [DeviceCounters?]
    public var spool: AsyncSpool?
    public var uplink: Uplink?

    public init(gateway: String, source: String, activity: LaneActivity, board: DeviceStatusBoard,
                counters: [DeviceCounters?], spool: AsyncSpool? = nil, uplink: Uplink? = nil) {
        self.gateway = gateway
        self.source = source
        self.activity = activity
        self.board = board
        self.counters = counters
        self.spool = spool
        self.uplink = uplink
    }

    public func snapshot(now: MonotonicInstant = .now()) async -> MonitorSnapshot {
        let spoolStatus = await spool?.status()
        let layout = activity.layout
        let entries = board.entries
        let devices = layout.devices.indices.map { i in
            let entry = entries[i]
            let counts = counters[i]?.snapshot
            let errors = counts.map { $0.garbageBytes + $0.crcErrors + $0.oversizedFrames + $0.truncatedFrames + $0.badRecords + $0.deviceErrors }
            return MonitorSnapshot.Device(
                name: layout.devices[i].name, kind: layout.devices[i].kind.rawValue,
                state: counters[i] == nil ? "not configured" : entry.state?.name ?? "not started",
                detail: entry.detail, sinceSeconds: entry.state == nil ? nil : max(0, Double(now.since(entry.since)) / 1e9),
                detections: counts?.detections ?? 0, errors: errors ?? 0)
        }
        let (lanes, alerts) = activity.snapshot(now: now)
        return MonitorSnapshot(gateway: gateway, source: source, devices: devices, lanes: lanes,
                               link: uplink.map(Self.link), spool: spoolStatus.map(Self.spool), alerts: alerts)
    }

    private static func link(_ uplink: Uplink) -> MonitorSnapshot.Link {
        let stats = uplink.statistics
        let now = ContinuousClock.now
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        let state: String
        var detail: String?
        if let failure = stats.lastFailure, stats.lastAcknowledgedAt.map({ $0 < failure.at }) ?? true {
            state = "down"
            detail = failure.reason
        } else {
            state = stats.lastAcknowledgedAt == nil ? "idle" : "up"
        }
        return MonitorSnapshot.Link(collector: uplink.currentURL, state: state, detail: detail,
                                    acknowledged: stats.acknowledged, retries: stats.retries,
                                    lastAcknowledgedSecondsAgo: stats.lastAcknowledgedAt.map { seconds(now - $0) },
                                    latencyMilliseconds: stats.lastLatency.map { seconds($0) * 1000 })
    }

    private static func spool(_ status: SpoolStatus) -> MonitorSnapshot.Spool {
        MonitorSnapshot.Spool(batches: status.batches, events: status.events, bytes: status.bytes,
                              deadLetters: status.deadLetters, degraded: status.degraded)
    }
}
