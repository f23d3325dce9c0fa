/// A vehicle's way through a port, re-identified by its tag: where it joined the queue, and when
/// it reached the booth and the exit (either may be missing when a read point missed the tag).
///
/// Every time is a visit's *first read* (its arrival): a vehicle has joined the queue when it
/// reaches the queue-end point, and reached the booth or the exit when it is first read there.
/// **Wait time** = booth − queue end; **crossing time** = exit − queue end.
public struct Trip: Sendable, Hashable {
    public var tag: String
    public var laneType: String
    /// The booth lane the vehicle used, when a booth read it.
    public var lane: String?
    public var queueEnd: UTCNanoseconds
    public var booth: UTCNanoseconds?
    public var exit: UTCNanoseconds?
    /// Why the match is less than plain, for the record (e.g. read at two booths).
    public var note: String?

    public init(tag: String, laneType: String, lane: String? = nil, queueEnd: UTCNanoseconds,
                booth: UTCNanoseconds? = nil, exit: UTCNanoseconds? = nil, note: String? = nil) {
        self.tag = tag
        self.laneType = laneType
        self.lane = lane
        self.queueEnd = queueEnd
        self.booth = booth
        self.exit = exit
        self.note = note
    }

    public func duration(_ measure: Measure) -> Int64? {
        switch measure {
        case .wait: booth.map { $0 - queueEnd }
        case .crossing: exit.map { $0 - queueEnd }
        }
    }

    /// When the measure's segment was completed: a figure is filed under the time it became
    /// known, which is also all a live estimate can use.
    public func completed(_ measure: Measure) -> UTCNanoseconds? {
        switch measure {
        case .wait: booth
        case .crossing: exit
        }
    }
}

/// The two figures the border programs publish.
public enum Measure: String, Sendable, Hashable, CaseIterable {
    /// End of queue to the primary booth.
    case wait
    /// End of queue to the exit of the port.
    case crossing
}
