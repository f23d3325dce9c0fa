/// Things that are "present" until they go quiet: tags or seals at read points.
///
/// Each entry belongs to a group (its read point) with its own quiet window. Within a group the
/// entries sit in a recency list ordered by last-seen time, so the next one to expire is always a
/// list head: touching an entry and finding the next expiry are O(1) (O(groups) to compare heads),
/// however many entries there are. Slots live in one array reused through a free list, so memory
/// is bounded by `capacity`.
final class PresenceTable<Key: Hashable, State> {
    struct Slot {
        var key: Key
        var group: UInt16
        var lastSeen: MonotonicInstant
        var state: State
        var prev: Int32
        var next: Int32
    }

    private static var none: Int32 { -1 }

    let capacity: Int
    private let windows: [Nanoseconds]
    private var slots: [Slot] = []
    private var freeSlots: [Int32] = []
    private var index: [Key: Int32]
    private var heads: [Int32]
    private var tails: [Int32]
    /// No entry expires before this; lets the common case (nothing due) skip the scan.
    private var earliestDeadline = MonotonicInstant.distantFuture

    init(windows: [Nanoseconds], capacity: Int) {
        precondition(capacity > 0 && capacity < Int(Int32.max), "presence table capacity out of range")
        self.windows = windows
        self.capacity = capacity
        self.heads = Array(repeating: Self.none, count: windows.count)
        self.tails = Array(repeating: Self.none, count: windows.count)
        self.index = Dictionary(minimumCapacity: min(capacity, 4096))
    }

    var count: Int { index.count }
    var isFull: Bool { index.count >= capacity }

    @inline(__always)
    func find(_ key: Key) -> Int32? { index[key] }

    @inline(__always)
    func state(_ slot: Int32) -> State { slots[Int(slot)].state }

    @inline(__always)
    func update(_ slot: Int32, _ body: (inout State) -> Void) { body(&slots[Int(slot)].state) }

    /// Adds an entry seen at `time` as the newest of its group. The caller makes room first.
    func insert(_ key: Key, group: UInt16, at time: MonotonicInstant, state: State) -> Int32 {
        precondition(!isFull, "insert into a full presence table")
        let fresh = Slot(key: key, group: group, lastSeen: time, state: state, prev: Self.none, next: Self.none)
        let slot: Int32
        if let reused = freeSlots.popLast() {
            slot = reused
            slots[Int(slot)] = fresh
        } else {
            slot = Int32(slots.count)
            slots.append(fresh)
        }
        index[key] = slot
        linkAtTail(slot, group: Int(group))
        let deadline = time.advanced(by: windows[Int(group)])
        if deadline < earliestDeadline { earliestDeadline = deadline }
        return slot
    }

    /// Records that the entry was seen at `time`; it becomes the newest of its group.
    /// A late (older) time never moves last-seen backwards.
    @inline(__always)
    func touch(_ slot: Int32, at time: MonotonicInstant) {
        let i = Int(slot)
        if time > slots[i].lastSeen { slots[i].lastSeen = time }
        let group = Int(slots[i].group)
        guard tails[group] != slot else { return }
        unlink(slot, group: group)
        linkAtTail(slot, group: group)
    }

    /// Removes and returns the entry whose quiet window ended first, if it ended before `now`
    /// (quiet for *more* than the window). Call until nil.
    func popExpired(now: MonotonicInstant) -> Slot? {
        guard now > earliestDeadline else { return nil }
        var best = Self.none
        var bestDeadline = MonotonicInstant.distantFuture
        for group in heads.indices {
            let head = heads[group]
            guard head != Self.none else { continue }
            let deadline = slots[Int(head)].lastSeen.advanced(by: windows[group])
            if deadline < bestDeadline {
                bestDeadline = deadline
                best = head
            }
        }
        guard best != Self.none, now > bestDeadline else {
            earliestDeadline = bestDeadline
            return nil
        }
        return remove(best)
    }

    /// Removes and returns the least recently seen entry of all groups.
    func popLeastRecent() -> Slot? {
        var best = Self.none
        for group in heads.indices {
            let head = heads[group]
            guard head != Self.none else { continue }
            if best == Self.none || slots[Int(head)].lastSeen < slots[Int(best)].lastSeen { best = head }
        }
        return best == Self.none ? nil : remove(best)
    }

    private func remove(_ slot: Int32) -> Slot {
        let entry = slots[Int(slot)]
        unlink(slot, group: Int(entry.group))
        index.removeValue(forKey: entry.key)
        freeSlots.append(slot)
        return entry
    }

    @inline(__always)
    private func linkAtTail(_ slot: Int32, group: Int) {
        let tail = tails[group]
        slots[Int(slot)].prev = tail
        slots[Int(slot)].next = Self.none
        if tail == Self.none { heads[group] = slot } else { slots[Int(tail)].next = slot }
        tails[group] = slot
    }

    @inline(__always)
    private func unlink(_ slot: Int32, group: Int) {
        let prev = slots[Int(slot)].prev
        let next = slots[Int(slot)].next
        if prev == Self.none { heads[group] = next } else { slots[Int(prev)].next = next }
        if next == Self.none { tails[group] = prev } else { slots[Int(next)].prev = prev }
    }
}
