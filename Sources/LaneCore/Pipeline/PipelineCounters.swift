/// What the pipeline has seen and dropped since it started. Every drop has a counter here, and the
/// counters travel upstream in every batch: nothing is lost silently.
public struct PipelineCounters: Sendable, Hashable {
    public var detections: UInt64 = 0
    public var tagReads: UInt64 = 0
    public var sealReports: UInt64 = 0
    public var loopEdges: UInt64 = 0
    /// Reads from a (device, antenna) that belongs to no read point, or edges from no configured loop.
    public var unmapped: UInt64 = 0
    /// Detections older than the pipeline's clock (a slow ring); processed, but counted.
    public var late: UInt64 = 0
    /// Tag candidates that never reached `min_reads`.
    public var noise: UInt64 = 0
    public var evictedTags: UInt64 = 0
    public var evictedSeals: UInt64 = 0
    /// Loop edges ignored as contact bounce (both edges of a too-short interval).
    public var bouncedEdges: UInt64 = 0
    /// Loop edges that did not change the level.
    public var repeatedEdges: UInt64 = 0
    /// Detections the drivers could not push because a ring was full.
    public var ringDrops: UInt64 = 0
    /// Plate reads from cameras (with or without a plate).
    public var plateReads: UInt64 = 0

    public init() {}

    /// Name and value of every counter, for statistics, metrics and the wire.
    public var all: [(name: String, value: UInt64)] {
        [("detections", detections), ("tag_reads", tagReads), ("seal_reports", sealReports),
         ("loop_edges", loopEdges), ("unmapped", unmapped), ("late", late), ("noise", noise),
         ("evicted_tags", evictedTags), ("evicted_seals", evictedSeals), ("bounced_edges", bouncedEdges),
         ("repeated_edges", repeatedEdges), ("ring_drops", ringDrops),
         ("plate_reads", plateReads)]
    }

    /// True when any counter of lost or ignored data differs: such a change travels at once.
    public func lossDiffers(from other: PipelineCounters) -> Bool {
        unmapped != other.unmapped || late != other.late || noise != other.noise
            || evictedTags != other.evictedTags || evictedSeals != other.evictedSeals || ringDrops != other.ringDrops
    }
}
