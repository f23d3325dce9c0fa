import ArgumentParser
import CLaneSystem
import LaneCore
import LaneGateway
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// `lanegate monitor`: the booth live, like cgps for a lane. Watches the running daemon through
/// its monitor socket; with the daemon stopped, opens the configured devices itself.
struct Monitor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch the booth live: loops switching, tag visits with RSSI, seals, devices, link and spool.",
        discussion: """
            Reads the running daemon through its monitor socket (group lanegate may connect). With \
            the daemon stopped, it opens the configured devices itself through the same drivers and \
            pipeline, and sends nothing. Fits 80x24 over ssh; Ctrl-C quits. When standard output is \
            not a terminal, it prints a plain frame a second instead of drawing.
            """)

    @Option(help: "The configuration file (for the socket's path, and the devices when the daemon is stopped).")
    var config = "/etc/lanegate/lanegate.toml"
    @Option(help: "The daemon's monitor socket (default: the configuration's [monitor] socket).")
    var socket: String?
    @Flag(help: "Print one plain frame and exit: for a ticket or a script. Without the daemon, waits for the devices first.")
    var once = false
    @Option(help: "Stop after this many seconds.")
    var seconds: Double?

    func run() async throws {
        var settings: GatewayConfig?
        var path = socket
        if path == nil {
            // Without the file (not in group lanegate, say) the usual socket is still worth a try.
            settings = try? GatewayConfig.load(path: config)
            path = settings?.monitorSocket ?? GatewayConfig.defaultMonitorSocket
        }
        let display = Display(live: !once && isatty(1) == 1)
        let deadline = seconds.map { ContinuousClock.now + .milliseconds(Int64($0 * 1000)) }
        do {
            let client = try await MonitorClient.connect(path: path!)
            try await display.run(until: deadline) {
                // The daemon sends four snapshots a second; a pipe gets one frame a second of them.
                var drawn: ContinuousClock.Instant?
                try await client.read { snapshot in
                    let now = ContinuousClock.now
                    if drawn.map({ now - $0 >= display.interval - .milliseconds(100) }) ?? true {
                        display.draw(snapshot)
                        drawn = now
                    }
                    return !once
                }
                // Past the deadline, `display.run` ended the reading; before it, the daemon did.
                if !once && deadline.map({ ContinuousClock.now < $0 }) ?? true {
                    FileOutput.standardError.write("lanegate monitor: the daemon closed the connection (stopping or restarting?)\n")
                }
            }
        } catch let failure as MonitorClient.Failure {
            guard case .noDaemon(let why) = failure else { fail(failure) }
            try await runDirect(settings: settings, because: why, display: display, deadline: deadline)
        }
    }

    /// The daemon is not there: the devices are opened here, if the configuration allows.
    private func runDirect(settings: GatewayConfig?, because why: String, display: Display,
                           deadline: ContinuousClock.Instant?) async throws {
        let gateway: GatewayConfig
        do { gateway = try settings ?? GatewayConfig.load(path: config) } catch { fail(error) }
        FileOutput.standardError.write("lanegate monitor: \(why); opening the devices of \(config) here (nothing is sent)\n")
        let session = DirectSession(config: gateway, pseudonymizer: try loadPseudonymizer(gateway))
        defer { session.stop() }
        let configured = gateway.deviceSetups.indices.filter { gateway.deviceSetups[$0] != nil }
        let settle = ContinuousClock.now + .seconds(10)
        try await display.run(until: deadline) {
            // `display.run` ends this at the deadline.
            while true {
                let snapshot = await session.sources.snapshot()
                if once {
                    let reading = configured.allSatisfy { snapshot.devices[$0].state == "reading" }
                    if reading || ContinuousClock.now >= settle {
                        display.draw(snapshot)
                        return
                    }
                } else {
                    display.draw(snapshot)
                }
                try await Task.sleep(for: display.interval)
            }
        }
    }
}

/// Where frames go: a live full-screen view on a terminal, or plain frames on a pipe.
private struct Display: Sendable {
    let live: Bool
    var interval: Duration { live ? .milliseconds(250) : .seconds(1) }

    /// Runs `body` until it returns, the deadline passes, or SIGINT/SIGTERM; the terminal is
    /// given back as it was in every case.
    func run(until deadline: ContinuousClock.Instant?, _ body: @escaping @Sendable () async throws -> Void) async throws {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        if live { emit("\u{1B}[?1049h\u{1B}[?25l") }
        defer { if live { emit("\u{1B}[?25h\u{1B}[?1049l") } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await body() }
            group.addTask {
                for await _ in signals { return }
                try await Task.sleep(for: .seconds(1_000_000_000))
            }
            if let deadline {
                group.addTask { try await Task.sleep(until: deadline) }
            }
            defer { group.cancelAll() }
            do { _ = try await group.next() } catch is CancellationError {}
        }
    }

    func draw(_ snapshot: MonitorSnapshot) {
        var rows: UInt16 = 0, columns: UInt16 = 0
        let sized = lanegate_terminal_size(1, &rows, &columns) == 0 && rows > 0 && columns > 0
        let screen = MonitorScreen(width: sized ? Int(columns) : 80, height: sized ? Int(rows) : 24, color: live)
        let lines = screen.lines(snapshot)
        if live {
            emit("\u{1B}[H" + lines.joined(separator: "\u{1B}[K\r\n") + "\u{1B}[K\u{1B}[J")
        } else {
            emit(lines.joined(separator: "\n") + "\n\n")
        }
    }

    private func emit(_ text: String) {
        FileOutput.standardOutput.write(text)
        FileOutput.standardOutput.flush()
    }
}
