/// A tag's stay at a read point, as stored by the collector: from a `tag_departed` event (a
/// closed visit), or from a `tag_arrived` whose departure has not arrived yet (an open one).
public struct TagVisit: Sendable, Hashable {
    /// The EPC or its keyed pseudonym, in hex.
    public var tag: String
    public var place: ReadPlace
    /// First and last read, UTC.
    public var first: UTCNanoseconds
    public var last: UTCNanoseconds
    public var reads: UInt32
    public var peakRSSI: Int8
    /// Only the arrival is known so far: the tag may still be at the point.
    public var open: Bool

    public init(tag: String, place: ReadPlace, first: UTCNanoseconds, last: UTCNanoseconds,
                reads: UInt32, peakRSSI: Int8, open: Bool = false) {
        self.tag = tag
        self.place = place
        self.first = first
        self.last = last
        self.reads = reads
        self.peakRSSI = peakRSSI
        self.open = open
    }

    /// The arrival and the departure of one visit come as two events, possibly in two batches
    /// with slightly different clock anchors: keeps the departure where both are present (an
    /// arrival within a second of a departure's first read at the same place is the same
    /// visit), and each visit once.
    public static func merged(_ visits: [TagVisit]) -> [TagVisit] {
        var closedFirsts: [PlaceTag: [UTCNanoseconds]] = [:]
        var out: [TagVisit] = []
        out.reserveCapacity(visits.count)
        var seen = Set<TagVisit>()
        for v in visits where !v.open && seen.insert(v).inserted {
            closedFirsts[PlaceTag(tag: v.tag, place: v.place), default: []].append(v.first)
            out.append(v)
        }
        for v in visits where v.open && seen.insert(v).inserted {
            let firsts = closedFirsts[PlaceTag(tag: v.tag, place: v.place)] ?? []
            if firsts.contains(where: { abs($0 - v.first) < seconds }) { continue }
            out.append(v)
        }
        return out
    }

    private struct PlaceTag: Hashable {
        var tag: String
        var place: ReadPlace
    }
}
