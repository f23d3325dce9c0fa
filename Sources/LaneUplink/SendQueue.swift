import LaneSpool
import Synchronization

/// Chooses what to send next, straight from the spool (so memory stays bounded whatever the
/// backlog): priority batches first, then live ones (committed since the uplink started), then
/// the backlog, oldest first. A batch is handed to one sender at a time. Choosing and releasing
/// both run on the spool's own thread, so the senders never touch the in-flight set at once.
final class SendQueue: Sendable {
    private let spool: AsyncSpool
    /// Sequences at or below this were already waiting when the uplink started: the backlog.
    let liveAfter: UInt64
    private let inFlight = Mutex<Set<UInt64>>([])
    private static let window = 16

    init(spool: AsyncSpool) {
        self.spool = spool
        liveAfter = spool.spool.nextSequence - 1
    }

    enum Lane { case priority, live, backlog }

    /// The next batches to send and why, claimed for the caller: the first one waiting, then
    /// up to `limit` in all of the same lane that follow it, while their bodies fit in
    /// `maxBytes` (the first always goes). Nil when nothing is waiting, or when the spool cannot
    /// read what it lists (the caller waits before asking again, so a failing disk does not spin
    /// a core).
    func claim(upTo limit: Int, maxBytes: Int) async throws(SpoolReadError) -> ([SpooledBatch], Lane)? {
        try await spool.perform { spool throws(SpoolReadError) in
            guard let (first, lane) = try claim(from: spool) else { return nil }
            guard limit > 1 else { return ([first], lane) }
            return ([first] + claimFollowing(first, lane: lane, from: spool, limit: limit - 1,
                                                maxBytes: maxBytes - first.body.count), lane)
        }
    }

    private func claim(from spool: Spool) throws(SpoolReadError) -> (SpooledBatch, Lane)? {
        // Batches acknowledged meanwhile are chosen past; a bounded number of times.
        for _ in 0..<Self.window {
            let picked: (UInt64, Lane)? = inFlight.withLock { busy in
                func first(_ sequences: [UInt64], below limit: UInt64 = .max) -> UInt64? {
                    sequences.first { !busy.contains($0) && $0 <= limit }
                }
                let window = Self.window + busy.count
                let choice: (UInt64, Lane)?
                if let s = first(spool.sequences(after: 0, limit: window, priorityOnly: true)) {
                    choice = (s, .priority)
                } else if let s = first(spool.sequences(after: liveAfter, limit: window)) {
                    choice = (s, .live)
                } else if let s = first(spool.sequences(after: 0, limit: window), below: liveAfter) {
                    choice = (s, .backlog)
                } else {
                    choice = nil
                }
                if let (s, _) = choice { busy.insert(s) }
                return choice
            }
            guard let (sequence, lane) = picked else { return nil }
            if let batch = try read(sequence, from: spool) { return (batch, lane) }
        }
        return nil
    }

    /// Claims batches of `lane` after `first`, in order, for a bundle. A batch the disk will not
    /// give up ends the bundle here; the error surfaces when that batch is claimed first.
    private func claimFollowing(_ first: SpooledBatch, lane: Lane, from spool: Spool, limit: Int,
                                maxBytes: Int) -> [SpooledBatch] {
        let candidates: [UInt64] = inFlight.withLock { busy in
            spool.sequences(after: first.sequence, limit: limit + busy.count, priorityOnly: lane == .priority)
                .filter { !busy.contains($0) && (lane != .backlog || $0 <= liveAfter) }
        }
        var claimed: [SpooledBatch] = []
        var bytes = 0
        for sequence in candidates.prefix(limit) {
            guard inFlight.withLock({ $0.insert(sequence).inserted }) else { continue }
            let batch: SpooledBatch?
            do { batch = try read(sequence, from: spool) } catch { break }
            guard let batch else { continue }
            guard bytes + batch.body.count <= maxBytes else {
                releaseNow(sequence)
                break
            }
            bytes += batch.body.count
            claimed.append(batch)
        }
        return claimed
    }

    /// A claimed batch's contents; nil (and released) when it was acknowledged or dropped meanwhile.
    private func read(_ sequence: UInt64, from spool: Spool) throws(SpoolReadError) -> SpooledBatch? {
        let batch: SpooledBatch?
        do { batch = try spool.batch(sequence) } catch {
            releaseNow(sequence)
            throw error
        }
        if batch == nil { releaseNow(sequence) }
        return batch
    }

    func release(_ sequences: [UInt64]) async {
        await spool.perform { _ in for sequence in sequences { self.releaseNow(sequence) } }
    }

    private func releaseNow(_ sequence: UInt64) { _ = inFlight.withLock { $0.remove(sequence) } }
}
