import ArgumentParser
import LaneCore
import LaneGateway
import LaneSpool
import LaneWire
import LaneUplink
import LaneTOML

struct Replay: AsyncParsableCommand {
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

    @Option(name: .long, help: "While replaying, also deliver the spool to this collector endpoint (needs --spool); stops once it is empty. Repeat it to fail over between collectors.")
    var send: [String] = []

    @Option(name: .long, help: "With --send: a file holding this gateway's bearer token.")
    var tokenFile: String?

    @Flag(name: .long, help: "With --send: allow plain http:// (lab and tests only).")
    var allowPlainHttp = false

    @Argument(help: "The trace file.")
    var trace: String

    func validate() throws {
        if !send.isEmpty && spool == nil { throw ValidationError("--send needs --spool") }
    }

    func run() async throws {
        let gateway: GatewayConfig
        let pseudonymizer: TagPseudonymizer?
        do {
            gateway = try GatewayConfig.load(path: config)
            pseudonymizer = try loadPseudonymizer(gateway)
        } catch { fail(error) }
        let out = FileOutput.standardOutput
        if format == .table { out.write(EventTable.header + "\n") }
        let format = self.format
        let spool = self.spool.map {
            Spool(path: $0, gatewayID: gateway.gatewayID, settings: gateway.spoolSettings, nowUTC: ClockAnchor.now().utcNanoseconds)
        }
        if let degraded = spool?.status().degraded { fail(SpoolUnavailable(message: degraded)) }
        // As the daemon would: `[collector] zstd_dictionary`, by default once a collector announces it.
        let dictionaryUse = DictionaryUse(policy: gateway.collector?.zstdDictionary ?? .auto)
        var sender: RunningUplink?
        if let spool, let url = send.first {
            let token = try tokenFile.map(readTokenFile)
            sender = RunningUplink(try Uplink(spool: AsyncSpool(spool), settings: {
                var settings = UplinkSettings(url: url, token: token, allowPlainHTTP: allowPlainHttp)
                settings.fallbackURLs = Array(send.dropFirst())
                settings.dictionaryUse = dictionaryUse
                return settings
            }()))
        }
        do {
            let stats = try LaneGateway.Replay.run(config: gateway, pseudonymizer: pseudonymizer, tracePath: trace,
                                                   spool: spool, dictionaryUse: dictionaryUse) { event, layout in
                switch format {
                case .jsonl: out.write(event.json(naming: layout) + "\n")
                case .table: out.write(EventTable.row(event, naming: layout) + "\n")
                case .none: break
                }
            }
            out.flush()
            FileOutput.standardError.write(stats.summary + "\n")
            if let sender {
                try await sender.finish(deadline: ContinuousClock.now + .seconds(120))
                let s = sender.uplink.statistics
                FileOutput.standardError.write("sent             \(s.acknowledged) batches, \(s.eventsDelivered) events; refused \(s.rejected), retries \(s.retries)\n")
            }
            spool?.close(nowUTC: ClockAnchor.now().utcNanoseconds)
            if let status = spool?.status() {
                FileOutput.standardError.write("spool            \(status.path): \(status.batches) batches waiting, next sequence \(status.nextSequence)\n")
                let lost = status.unreportedLosses.map { "\($0.batches) batches, \($0.events) events (\($0.reason.name))" }
                if !lost.isEmpty { FileOutput.standardError.write("spool lost       \(lost.joined(separator: "; ")): reported upstream with the next batch\n") }
            }
        } catch { fail(error) }
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Work with the configuration file.", subcommands: [Check.self, UdevRulesCommand.self])

    struct UdevRulesCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "udev-rules",
            abstract: "Print udev rules that give group lanegate exactly the configured USB devices and GPIO chips.")

        @Argument(help: "The configuration file.")
        var file: String

        func run() throws {
            do {
                let config = try GatewayConfig.load(path: file)
                FileOutput.standardOutput.write(UdevRules.text(for: config, source: file))
                FileOutput.standardOutput.flush()
            } catch { fail(error) }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration file; every problem is printed with its line and key.")

        @Argument(help: "The configuration file.")
        var file: String

        func run() throws {
            do {
                let config = try GatewayConfig.load(path: file)
                let unreadable = config.unreadableFiles(source: file)
                if !unreadable.isEmpty { throw ConfigErrors(errors: unreadable) }
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
