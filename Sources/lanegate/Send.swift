import ArgumentParser
import LaneCore
import LaneSpool
import LaneGateway
import LaneUplink

/// `lanegate send`: deliver what waits in a spool file to a collector, then stop.
struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deliver every batch waiting in a spool file to a collector, then report.",
        discussion: """
            The same uplink the daemon runs: priority batches first, acknowledged batches deleted, \
            refused ones kept as dead letters. Stops when the spool is empty (or at --timeout).
            """)

    @Argument(help: "The spool file.") var spool: String
    @Option(help: "The collector's batch endpoint, e.g. https://collector:8443/v1/batches.") var collector: String
    @Option(help: "The gateway id the spool belongs to.") var gateway: String
    @Option(help: "A file holding this gateway's bearer token.") var tokenFile: String?
    @Option(help: "CA bundle (PEM) for the collector's certificate.") var caBundle: String?
    @Flag(help: "Allow plain http:// (lab and tests only).") var allowPlainHttp = false
    @Option(help: "Requests in flight at once.") var concurrency = 4
    @Option(help: "Batches one request may carry (1: one batch per request, as before bundles).") var batchesPerRequest = 64
    @Option(help: "Give up after this many seconds.") var timeout = 3600

    func run() async throws {
        let token = try tokenFile.map(readTokenFile)
        // Delivering a backlog must never shrink it: no eviction, whatever the disk's free space.
        var settings = SpoolSettings()
        settings.evicts = false
        let spool = Spool(path: self.spool, gatewayID: gateway, settings: settings, nowUTC: ClockAnchor.now().utcNanoseconds)
        if let degraded = spool.status().degraded { throw ValidationError(degraded) }
        let start = spool.status()
        var uplinkSettings = UplinkSettings(url: collector, token: token, caBundle: caBundle, allowPlainHTTP: allowPlainHttp,
                                            concurrency: concurrency)
        uplinkSettings.batchesPerRequest = max(1, batchesPerRequest)
        let uplink = try Uplink(spool: AsyncSpool(spool), settings: uplinkSettings)
        let began = ContinuousClock.now
        try await RunningUplink(uplink).finish(deadline: began + .seconds(timeout))
        let took = ContinuousClock.now - began
        let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
        let s = uplink.statistics
        spool.close(nowUTC: ClockAnchor.now().utcNanoseconds)
        let end = spool.status()
        print("sent \(s.acknowledged) of \(start.batches) batches (\(s.eventsDelivered) events, \(s.bytesDelivered) bytes, \(s.requests) requests) in \(formatFixed(seconds, decimals: 2)) s: \(formatFixed(Double(s.eventsDelivered) / max(seconds, 1e-9), decimals: 0)) events/s")
        let ms = { (d: Duration?) in d.map { formatFixed(Double($0.components.attoseconds) / 1e15 + Double($0.components.seconds) * 1000, decimals: 1) + " ms" } ?? "-" }
        print("acknowledgement latency: p50 \(ms(s.latencies.quantile(0.5))), p99 \(ms(s.latencies.quantile(0.99))) (within 25 %)")
        print("refused \(s.rejected) (dead letters now \(end.deadLetters)), retries \(s.retries), still waiting \(end.batches)")
        if end.batches > 0 { throw ExitCode(1) }
    }
}


/// An uplink sending in the background until its spool is empty.
struct RunningUplink {
    let uplink: Uplink
    private let task: Task<Void, Never>

    init(_ uplink: Uplink) {
        self.uplink = uplink
        task = Task { await uplink.run() }
    }

    /// Waits until the uplink's spool holds nothing (or `deadline` passes), then stops the uplink.
    func finish(deadline: ContinuousClock.Instant) async throws {
        while await uplink.spool.depth > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        task.cancel()
        await task.value
        try await uplink.shutdown()
    }
}
