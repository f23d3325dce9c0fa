import ArgumentParser
import LaneCore
import LaneGateway
import LaneSpool

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a raw-detection trace through dedup and encoding; print the lane events and statistics.",
        discussion: """
            TRACE is JSON Lines, one raw detection per line ("-" reads standard input). Events go to \
            standard output (JSON Lines, or a table with --format table); the statistics go to \
            standard error, so `lanegate replay … > events.jsonl` keeps them apart.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case jsonl, table, none
    }

    @Option(name: .long, help: "The gateway configuration (TOML).")
    var config: String

    @Option(name: .long, help: "How to print events: jsonl, table or none.")
    var format: Format = .jsonl

    @Option(name: .long, help: "Also commit the batches to this spool file (created when missing).")
    var spool: String?

    @Argument(help: "The trace file.")
    var trace: String

    func run() throws {
        let gateway: GatewayConfig
        let pseudonymizer: TagPseudonymizer?
        do {
            gateway = try GatewayConfig.load(path: config)
            pseudonymizer = try loadPseudonymizer(gateway)
        } catch { fail(error) }
        let out = FileOutput.standardOutput
        if format == .table { out.write(EventTable.header + "\n") }
        let format = self.format
        let spool = self.spool.map { Spool(path: $0, gatewayID: gateway.gatewayID, nowUTC: ClockAnchor.now().utcNanoseconds) }
        if let degraded = spool?.status().degraded { fail(SpoolUnavailable(message: degraded)) }
        do {
            let stats = try LaneGateway.Replay.run(config: gateway, pseudonymizer: pseudonymizer, tracePath: trace,
                                                   spool: spool) { event, layout in
                switch format {
                case .jsonl: out.write(event.json(naming: layout) + "\n")
                case .table: out.write(EventTable.row(event, naming: layout) + "\n")
                case .none: break
                }
            }
            out.flush()
            FileOutput.standardError.write(stats.summary + "\n")
            if let status = spool?.status() {
                FileOutput.standardError.write("spool            \(status.path): \(status.batches) batches waiting, next sequence \(status.nextSequence)\n")
            }
        } catch { fail(error) }
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Work with the configuration file.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration file; every problem is printed with its line and key.")

        @Argument(help: "The configuration file.")
        var file: String

        func run() throws {
            do {
                let config = try GatewayConfig.load(path: file)
                _ = try loadPseudonymizer(config)
                let l = config.layout
                FileOutput.standardOutput.write("""
                    \(file): valid. gateway \(config.gatewayID): \(l.devices.count) devices, \
                    \(l.readPoints.count) read points, \(l.loops.count) loops, \(l.speedTraps.count) speed traps

                    """)
                FileOutput.standardOutput.flush()
            } catch { fail(error) }
        }
    }
}

struct SpoolUnavailable: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
