import LaneCore
import LaneDevices
import LaneSpool
import LaneUplink
import Prometheus
import Synchronization

/// The daemon's Prometheus metrics, refreshed once a second from the counters its parts keep
/// anyway (devices, pipeline, spool, uplink, clock) and served on a local port.
public final class GatewayMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let totals = Mutex<[String: Int64]>([:])

    public init() {}

    /// Reads every source once and updates the registry.
    func refresh(layout: LaneLayout, devices: [DeviceCounters?], rings: [SPSCRing<Detection>], board: DeviceStatusBoard,
                 progress: LiveGateway.Progress, spool: SpoolStatus, uplink: UplinkCounters, clock: ClockAnchor,
                 plates: PlateListener? = nil) {
        let entries = board.entries
        for (i, device) in layout.devices.enumerated() {
            let labels = [("device", device.name)]
            gauge("device_state", "Supervision state: 0 not started, 1 connected, 2 configured, 3 reading, 4 lost, 5 error", labels)
                .set(Int64(entries[i].state?.rawValue ?? 0))
            gauge("device_ring_fill_ratio", "Share of the device's ring in use", labels)
                .set(Double(rings[i].count) / Double(rings[i].capacity))
            guard let counters = devices[i]?.snapshot else { continue }
            total("device_detections", "Detections pushed toward the pipeline", labels, counters.detections)
            total("device_bytes_received", "Bytes read from the device", labels, counters.bytesIn)
            total("device_frames", "Frames decoded", labels, counters.frames)
            total("device_ring_drops", "Detections dropped because the ring was full", labels, rings[i].totalDrops)
            total("device_sessions", "Sessions started (the first, and every reconnect)", labels, counters.sessions)
            for (kind, value) in [("crc", counters.crcErrors), ("garbage_bytes", counters.garbageBytes),
                                  ("oversized", counters.oversizedFrames), ("truncated", counters.truncatedFrames),
                                  ("bad_record", counters.badRecords), ("device_reported", counters.deviceErrors)] {
                total("device_errors", "Input thrown away or refused, by kind", labels + [("kind", kind)], value)
            }
        }
        if let plates {
            for (camera, outcomes) in plates.counters.snapshot {
                for (outcome, value) in outcomes {
                    total("plate_pushes", "Camera pushes to the plate listener by outcome (camera \"\" is an unknown name)",
                          [("camera", camera), ("outcome", outcome.rawValue)], value)
                }
            }
            gauge("plate_inbox_reads", "Plate reads waiting for the pipeline", []).set(Int64(plates.inbox.count))
        }
        total("pipeline_events", "Lane events made", [], progress.events.load(ordering: .relaxed))
        total("pipeline_turns", "Passes of the pipeline thread's loop", [], progress.turns.load(ordering: .relaxed))
        gauge("spool_batches", "Batches waiting for the collector", []).set(Int64(spool.batches))
        gauge("spool_events", "Events in waiting batches", []).set(Int64(spool.events))
        gauge("spool_bytes", "Bytes of waiting batches", []).set(spool.bytes)
        gauge("spool_dead_letters", "Batches the collector refused for good", []).set(Int64(spool.deadLetters))
        gauge("spool_degraded", "1 while the spool runs in memory (disk full, read-only or failing)", []).set(Int64(spool.degraded == nil ? 0 : 1))
        total("uplink_batches_acknowledged", "Batches the collector acknowledged", [], UInt64(uplink.acknowledged))
        total("uplink_batches_rejected", "Batches the collector refused (dead letters)", [], UInt64(uplink.rejected))
        total("uplink_retries", "Deliveries retried after an error", [], UInt64(uplink.retries))
        total("uplink_events_delivered", "Events delivered", [], UInt64(uplink.eventsDelivered))
        if let latency = uplink.lastLatency {
            gauge("uplink_latency_seconds", "Round trip of the last acknowledged delivery", [])
                .set(Double(latency.components.seconds) + Double(latency.components.attoseconds) / 1e18)
        }
        gauge("clock_synchronized", "1 when the kernel says the clock is synchronized", []).set(Int64(clock.sync == .synchronized ? 1 : 0))
        gauge("clock_max_error_seconds", "The kernel's maximum error estimate for the clock", [])
            .set(clock.maxErrorMicros < 0 ? -1 : Double(clock.maxErrorMicros) / 1e6)
    }

    private func gauge(_ name: String, _ help: String, _ labels: [(String, String)]) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "lanegate", metricName: name, unitName: "", helpText: help),
                           labels: labels)
    }

    /// Prometheus counters only grow by increments: a cumulative total is turned into the
    /// increment since it was last seen.
    private func total(_ name: String, _ help: String, _ labels: [(String, String)], _ value: UInt64) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let delta = totals.withLock { seen in
            defer { seen[key] = Int64(clamping: value) }
            return Int64(clamping: value) - (seen[key] ?? 0)
        }
        let counter = registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "lanegate", metricName: name,
                                                                            unitName: "total", helpText: help), labels: labels)
        if delta > 0 { counter.increment(by: delta) }
    }
}
