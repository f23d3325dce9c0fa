import LaneCore

/// What a replay did, for the closing summary.
public struct ReplayStatistics: Sendable {
    public var traceLines = 0
    public var counters = PipelineCounters()
    public var eventsByType: [String: Int] = [:]
    public var batches = 0
    public var wireBytes = 0
    /// The same events as JSON Lines, for comparison with the wire size.
    public var jsonBytes = 0

    public var events: Int { eventsByType.values.reduce(0, +) }

    public var summary: String {
        var lines: [String] = []
        lines.append("trace lines      \(traceLines)")
        lines.append("raw detections   \(counters.detections) (tag reads \(counters.tagReads), seal reports \(counters.sealReports), loop edges \(counters.loopEdges))")
        lines.append("lane events      \(events)")
        for (type, count) in eventsByType.sorted(by: { $0.key < $1.key }) {
            lines.append("  " + padded(type, to: 15) + "\(count)")
        }
        lines.append("batches          \(batches)")
        lines.append("wire bytes       \(wireBytes) (zstd protobuf)")
        if events > 0 {
            lines.append("bytes per event  \(formatFixed(Double(wireBytes) / Double(events), decimals: 2))")
            lines.append("JSON bytes       \(jsonBytes) (\(formatFixed(Double(jsonBytes) / Double(max(wireBytes, 1)), decimals: 1))× the wire size)")
        }
        let drops = counters.all.filter { ["unmapped", "late", "noise", "evicted_tags", "evicted_seals",
                                           "bounced_edges", "repeated_edges", "ring_drops"].contains($0.name) }
        lines.append("dropped/ignored  " + drops.map { "\($0.name) \($0.value)" }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}
