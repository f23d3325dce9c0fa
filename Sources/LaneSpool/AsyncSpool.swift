import LaneCore

/// The spool as async code sees it: an actor on the spool's own thread. Everything the uplink,
/// the status loop and the monitor ask of the spool (what to send next, acknowledgements,
/// status) runs there, so SQLite and fsync never block the cooperative pool.
///
/// The pipeline thread, a thread of its own, writes through ``spool`` directly; the spool's lock
/// orders its writes with the work done here.
public actor AsyncSpool {
    public nonisolated let spool: Spool
    private nonisolated let executor: ThreadExecutor

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public init(_ spool: Spool) {
        self.spool = spool
        executor = ThreadExecutor(name: "spool")
    }

    deinit { executor.shutdown() }

    /// Runs `work` on the spool's thread: for a choice that takes several reads at once.
    public func perform<T: Sendable, E: Error>(_ work: @Sendable (Spool) throws(E) -> T) throws(E) -> T {
        try work(spool)
    }

    public func status() -> SpoolStatus { spool.status() }

    /// Batches waiting (file and memory).
    public var depth: Int { spool.depth }

    /// The collector stored the batch: forget it.
    public func acknowledge(_ sequence: UInt64) { spool.acknowledge(sequence) }

    /// The collector refused the batch for good (4xx): keep it aside, counted and inspectable.
    public func deadLetter(_ sequence: UInt64, status: Int, reason: String, nowUTC: Int64) {
        spool.deadLetter(sequence, status: status, reason: reason, nowUTC: nowUTC)
    }

    /// A clean stop (see ``Spool/close(nowUTC:)``).
    public func close(nowUTC: Int64) { spool.close(nowUTC: nowUTC) }
}
