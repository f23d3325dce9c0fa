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

    /// The next batch to send and why, claimed for the caller; nil when nothing is waiting, or
    /// when the spool cannot read what it lists (the caller waits before asking again, so a
    /// failing disk does not spin a core).
    func claim() async throws(SpoolReadError) -> (SpooledBatch, Lane)? {
        try await spool.perform { spool throws(SpoolReadError) in try claim(from: spool) }
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
            let batch: SpooledBatch?
            do { batch = try spool.batch(sequence) } catch {
                releaseNow(sequence)
                throw error
            }
            if let batch { return (batch, lane) }
            releaseNow(sequence)  // acknowledged or dropped meanwhile: choose again
        }
        return nil
    }

    func release(_ sequence: UInt64) async {
        await spool.perform { _ in self.releaseNow(sequence) }
    }

    private func releaseNow(_ sequence: UInt64) { _ = inFlight.withLock { $0.remove(sequence) } }
}
