import ArgumentParser
import LaneCore
import LaneSpool
import LaneWire

/// `lanegate spool …`: read a spool file offline (nothing in it is changed).
struct SpoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spool",
        abstract: "Look into a spool file offline: status, inspect, verify, export. Nothing is written to it.",
        subcommands: [Status.self, Inspect.self, Verify.self, Export.self])

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What the spool holds, and what it has lost.")
        @Argument(help: "The spool file (e.g. /var/lib/lanegate/spool.db).") var file: String

        func run() throws {
            let s = try open(file).summary()
            let out = FileOutput.standardOutput
            out.write("gateway          \(s.gatewayID) (spool format \(s.format))\n")
            out.write("batches waiting  \(s.batches) (\(s.priorityBatches) priority), \(s.events) events, \(byteText(s.bytes))\n")
            if let oldest = s.oldest, let newest = s.newest {
                out.write("sequences        \(oldest.sequence) … \(newest.sequence), next \(s.nextSequence)\n")
                out.write("committed        \(utcText(oldest.createdUTC)) … \(utcText(newest.createdUTC))\n")
            } else {
                out.write("sequences        none waiting, next \(s.nextSequence)\n")
            }
            out.write("journal          \(s.journaledEvents) events of an unclosed batch\n")
            out.write("dead letters     \(s.deadLetters)\n")
            let losses = s.unreportedLosses.map { "\($0.reason.name): \($0.batches) batches, \($0.events) events" }
            out.write("unreported loss  \(losses.isEmpty ? "none" : losses.joined(separator: "; "))\n")
            out.flush()
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the waiting batches, or print one batch's events (--sequence) as JSON Lines.")
        @Argument(help: "The spool file.") var file: String
        @Option(help: "Print the events of this batch.") var sequence: UInt64?
        @Flag(help: "List the dead letters (batches the collector refused) instead.") var deadLetters = false

        func run() throws {
            let reader = try open(file)
            let out = FileOutput.standardOutput
            if let sequence {
                guard let batch = try reader.batch(sequence) ?? reader.deadLetters().first(where: { $0.batch.sequence == sequence })?.batch
                else { fail(ValidationError("no batch \(sequence) in \(file)")) }
                let decoded = try BatchDecoder.decode(batch.body)
                for event in decoded.events { out.write(event.json(naming: decoded) + "\n") }
            } else if deadLetters {
                out.write("sequence  status  events  reason\n")
                for d in try reader.deadLetters() {
                    out.write("\(column(d.batch.sequence, width: 8))  \(column(d.status, width: 6))  \(column(d.batch.events, width: 6))  \(d.reason)\n")
                }
            } else {
                out.write("sequence  prio  events    bytes  committed (UTC)\n")
                for e in try reader.entries() {
                    out.write("\(column(e.sequence, width: 8))  \(e.priority ? "yes " : "-   ")  \(column(e.events, width: 6))  \(column(e.bytes, width: 7))  \(utcText(e.createdUTC))\n")
                }
            }
            out.flush()
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the file's integrity and decode every batch. Exit status 0 only when all is sound.")
        @Argument(help: "The spool file.") var file: String

        func run() throws {
            let result = try open(file).verify()  // problems are reported, not thrown
            let out = FileOutput.standardOutput
            for problem in result.problems { out.write("problem: \(problem)\n") }
            out.write("\(result.batches) batches, \(result.events) events checked: \(result.problems.isEmpty ? "sound" : "\(result.problems.count) problems")\n")
            out.flush()
            if !result.problems.isEmpty { throw ExitCode(1) }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every waiting event as JSON Lines, each with its gateway and batch sequence.",
            discussion: "For the collector team when a box cannot send: `lanegate spool export spool.db > events.jsonl`.")
        @Argument(help: "The spool file.") var file: String

        func run() throws {
            let out = FileOutput.standardOutput
            try open(file).forEachBatch { batch in
                let decoded = try BatchDecoder.decode(batch.body)
                let prefix = "{\"gateway\":\(jsonQuoted(decoded.gatewayID)),\"sequence\":\(decoded.sequence),"
                for event in decoded.events { out.write(prefix + event.json(naming: decoded).dropFirst() + "\n") }
            }
            out.flush()
        }
    }
}

private func open(_ file: String) throws -> SpoolReader {
    do { return try SpoolReader(path: file) } catch { fail(error) }
}

private func byteText(_ bytes: Int64) -> String {
    bytes < 1 << 20 ? "\(bytes) bytes" : "\(formatFixed(Double(bytes) / Double(1 << 20), decimals: 1)) MiB"
}
