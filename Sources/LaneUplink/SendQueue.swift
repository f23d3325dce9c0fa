import LaneSpool
import Synchronization

/// Chooses what to send next, straight from the spool (so memory stays bounded whatever the
/// backlog): priority batches first, then live ones (committed since the uplink started), then
/// the backlog, oldest first. A batch is handed to one sender at a time.
final class SendQueue: Sendable {
    private let spool: Spool
    /// Sequences at or below this were already waiting when the uplink started: the backlog.
    let liveAfter: UInt64
    private let inFlight = Mutex<Set<UInt64>>([])
    private static let window = 16

    init(spool: Spool) {
        self.spool = spool
        liveAfter = spool.nextSequence - 1
    }

    enum Lane { case priority, live, backlog }

    /// The next batch to send and why, claimed for the caller; nil when nothing is waiting.
    func claim() -> (SpooledBatch, Lane)? {
        inFlight.withLock { busy in
            func first(_ batches: [SpooledBatch], below limit: UInt64 = .max) -> SpooledBatch? {
                batches.first { !busy.contains($0.sequence) && $0.sequence <= limit }
            }
            let window = Self.window + busy.count
            let picked: (SpooledBatch, Lane)?
            if let b = first(spool.batches(after: 0, limit: window, priorityOnly: true)) {
                picked = (b, .priority)
            } else if let b = first(spool.batches(after: liveAfter, limit: window)) {
                picked = (b, .live)
            } else if let b = first(spool.batches(after: 0, limit: window), below: liveAfter) {
                picked = (b, .backlog)
            } else {
                picked = nil
            }
            if let (b, _) = picked { busy.insert(b.sequence) }
            return picked
        }
    }

    func release(_ sequence: UInt64) { _ = inFlight.withLock { $0.remove(sequence) } }
}
