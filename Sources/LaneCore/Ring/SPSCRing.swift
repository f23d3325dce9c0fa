import Synchronization

/// A bounded, lock-free single-producer single-consumer ring: one per device driver, carrying
/// detections to the pipeline thread.
///
/// - The producer never blocks: when the ring is full the element is dropped and counted, and the
///   consumer turns the count into a `gap` event (``RingConsumer/takeDrops()``).
/// - Indices only grow (they wrap as `Int`); the slot is `index & mask` (capacity is a power of two).
/// - The producer's and the consumer's indices sit 128 bytes apart, so the two threads never
///   write the same cache line (nor adjacent-line prefetch pairs), and each side keeps a cached
///   copy of the other's index, reloading it only when the ring looks full (or empty).
/// - Elements are `BitwiseCopyable`: a push or pop is a plain copy, with no retain or release.
///
/// Claim each end once (`var producer = RingProducer(ring)`, `var consumer = RingConsumer(ring)`)
/// and hand it to its thread: the ends are noncopyable and a second claim traps, so there is
/// exactly one producer and one consumer.
public final class SPSCRing<Element: BitwiseCopyable>: @unchecked Sendable {
    /// Total pushed: written by the producer, read by the consumer.
    @usableFromInline let tail = Atomic<Int>(0)
    @usableFromInline let padding0 = CacheLinePadding()
    /// Total popped: written by the consumer, read by the producer.
    @usableFromInline let head = Atomic<Int>(0)
    @usableFromInline let padding1 = CacheLinePadding()
    /// Elements dropped because the ring was full: published by the producer (a plain store of
    /// its own count, never a read-modify-write), on a line of its own.
    @usableFromInline let drops = Atomic<UInt64>(0)
    @usableFromInline let padding2 = CacheLinePadding()
    private let producerClaimed = Atomic<Bool>(false)
    private let consumerClaimed = Atomic<Bool>(false)
    @usableFromInline let slots: UnsafeMutablePointer<Element>
    @usableFromInline let mask: Int
    public let capacity: Int

    /// `capacity` must be a power of two, at least 2.
    public init(capacity: Int) {
        precondition(capacity >= 2 && capacity.nonzeroBitCount == 1, "ring capacity must be a power of two ≥ 2")
        self.capacity = capacity
        self.mask = capacity - 1
        self.slots = .allocate(capacity: capacity)
    }

    deinit { slots.deallocate() }

    /// Elements currently queued (a snapshot: either side may be moving).
    public var count: Int { tail.load(ordering: .relaxed) &- head.load(ordering: .relaxed) }
    public var totalDrops: UInt64 { drops.load(ordering: .relaxed) }

    func claim(producer: Bool) {
        let wasClaimed = producer ? producerClaimed.exchange(true, ordering: .relaxed)
                                  : consumerClaimed.exchange(true, ordering: .relaxed)
        precondition(!wasClaimed,
                     "an SPSC ring has one \(producer ? "producer" : "consumer"); this end was already claimed")
    }
}

/// 120 bytes of nothing: with the 8-byte atomic before it, the next field starts 128 bytes on.
@usableFromInline
struct CacheLinePadding: Sendable {
    let bytes: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64,
                Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    @usableFromInline init() {}
}

/// The writing end. Owned by exactly one thread at a time.
public struct RingProducer<Element: BitwiseCopyable>: ~Copyable, @unchecked Sendable {
    @usableFromInline let storage: SPSCRing<Element>
    // Copies of the ring's constants: the hot path reads only this handle and the two indices.
    @usableFromInline let slots: UnsafeMutablePointer<Element>
    @usableFromInline let mask: Int
    @usableFromInline let capacity: Int
    @usableFromInline var tail = 0
    @usableFromInline var cachedHead = 0
    @usableFromInline var dropped: UInt64 = 0

    /// Claims the ring's producer end; traps if it was claimed before.
    public init(_ ring: SPSCRing<Element>) {
        ring.claim(producer: true)
        storage = ring
        slots = ring.slots
        mask = ring.mask
        capacity = ring.capacity
    }

    public var ring: SPSCRing<Element> { storage }

    /// Appends `element`, or counts it as dropped and returns false when the ring is full.
    @inlinable @inline(__always)
    public mutating func push(_ element: Element) -> Bool {
        let position = tail
        if position &- cachedHead == capacity {
            cachedHead = storage.head.load(ordering: .acquiring)
            if position &- cachedHead == capacity {
                dropped &+= 1
                storage.drops.store(dropped, ordering: .relaxed)
                return false
            }
        }
        (slots + (position & mask)).initialize(to: element)
        tail = position &+ 1
        storage.tail.store(position &+ 1, ordering: .releasing)
        return true
    }
}

/// The reading end. Owned by exactly one thread at a time.
public struct RingConsumer<Element: BitwiseCopyable>: ~Copyable, @unchecked Sendable {
    @usableFromInline let storage: SPSCRing<Element>
    @usableFromInline let slots: UnsafeMutablePointer<Element>
    @usableFromInline let mask: Int
    @usableFromInline var head = 0
    @usableFromInline var cachedTail = 0
    @usableFromInline var reportedDrops: UInt64 = 0

    /// Claims the ring's consumer end; traps if it was claimed before.
    public init(_ ring: SPSCRing<Element>) {
        ring.claim(producer: false)
        storage = ring
        slots = ring.slots
        mask = ring.mask
    }

    public var ring: SPSCRing<Element> { storage }

    /// The oldest element, or nil when the ring is empty.
    @inlinable @inline(__always)
    public mutating func pop() -> Element? {
        let position = head
        if position == cachedTail {
            cachedTail = storage.tail.load(ordering: .acquiring)
            if position == cachedTail { return nil }
        }
        let element = slots[position & mask]
        head = position &+ 1
        storage.head.store(position &+ 1, ordering: .releasing)
        return element
    }

    /// Hands up to `limit` queued elements to `body`, oldest first, then frees their slots with a
    /// single store. Returns how many it handed over.
    @inlinable @inline(__always)
    public mutating func popBatch(limit: Int, _ body: (Element) throws -> Void) rethrows -> Int {
        let position = head
        if position == cachedTail { cachedTail = storage.tail.load(ordering: .acquiring) }
        let available = min(cachedTail &- position, limit)
        guard available > 0 else { return 0 }
        var i = 0
        defer {
            head = position &+ i
            storage.head.store(position &+ i, ordering: .releasing)
        }
        while i < available {
            try body(slots[(position &+ i) & mask])
            i &+= 1
        }
        return available
    }

    /// Drops counted by the producer since the last call.
    public mutating func takeDrops() -> UInt64 {
        let total = storage.drops.load(ordering: .relaxed)
        let fresh = total &- reportedDrops
        reportedDrops = total
        return fresh
    }
}
