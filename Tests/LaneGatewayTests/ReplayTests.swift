import Foundation
import LaneCore
import LaneGateway
import LaneSimulators
import LaneSpool
import LaneWire
import Testing
import LaneTestSupport

@Suite("Replay against ground truth")
struct ReplayTests {
    /// Synthetic booth traffic through the real pipeline, batcher and encoder: every true visit
    /// comes out as exactly one arrival and one departure with the true first and last read,
    /// every vehicle once with a speed close to the truth, every tamper as a seal change.
    @Test func eventsMatchTheScenariosGroundTruth() throws {
        let traffic = BoothTraffic(seed: 11, lanes: 2, vehicles: 30)
        let output = traffic.generate()
        let config = GatewayConfig(gatewayID: "synth-gw", layout: traffic.layout, batchPolicy: BatchPolicy(), privacyKeyFile: nil)
        var events: [LaneEvent] = []
        let replay = LaneGateway.Replay(config: config, pseudonymizer: nil) { event, _ in events.append(event) }
        for d in output.detections { replay.feed(d) }
        replay.finish()
        let layout = traffic.layout

        struct Visit: Hashable { var point: String; var tag: TagID; var first: MonotonicInstant; var last: MonotonicInstant; var reads: Int }
        let truthVisits = Set(output.truth.visits.map { Visit(point: $0.readPoint, tag: $0.tag, first: $0.firstRead, last: $0.lastRead, reads: $0.reads) })
        let departed = Set(events.compactMap { e -> Visit? in
            guard case .tagDeparted(let d) = e else { return nil }
            return Visit(point: layout.readPointName(d.readPoint), tag: d.tag, first: d.firstSeen, last: d.lastSeen, reads: Int(d.readCount))
        })
        #expect(truthVisits.count > 40)
        #expect(departed == truthVisits)
        let arrivals = events.compactMap { e -> TagArrival? in if case .tagArrived(let a) = e { a } else { nil } }
        #expect(arrivals.count == truthVisits.count)

        let vehicles = events.compactMap { e -> VehiclePassage? in if case .vehicle(let v) = e { v } else { nil } }
        #expect(vehicles.count == output.truth.passages.count)
        for truth in output.truth.passages where truth.loop.hasSuffix("loop-b") {
            let v = try #require(vehicles.first { layout.loopName($0.loop) == truth.loop && $0.onTime == truth.on })
            #expect(v.offTime == truth.off)
            #expect(abs(try #require(v.speed) - truth.speed) < 0.01, "speed within 1 cm/s")
        }

        let tampers = events.compactMap { e -> SealChange? in if case .sealChanged(let c) = e { c } else { nil } }
        #expect(Set(tampers.map { "\(layout.readPointName($0.readPoint)) \($0.seal) \($0.time)" })
                == Set(output.truth.tampers.map { "\($0.readPoint) \($0.seal) \($0.time)" }))
        #expect(!tampers.isEmpty)
        #expect(replay.statistics.batches > 0 && replay.statistics.wireBytes > 0)
        #expect(replay.statistics.counters.bouncedEdges > 0, "the scenario's contact bounce was seen and ignored")
    }

    @Test func traceErrorsNameFileAndLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lanegate-replay-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("bad.jsonl").path
        try """
        {"t":1,"dev":"rfid-lane1","kind":"tag","epc":"3005","ant":3,"rssi":-50}

        {"t":2,"dev":"rfid-lane7","kind":"tag","epc":"3005","ant":3,"rssi":-50}
        """.write(toFile: trace, atomically: true, encoding: .utf8)
        let config = try GatewayConfig.load(path: fixture("booth.toml"))
        #expect {
            _ = try LaneGateway.Replay.run(config: config, pseudonymizer: nil, tracePath: trace) { _, _ in }
        } throws: { error in
            "\(error)" == "\(trace):3: device \"rfid-lane7\" is not in the configuration's [[devices]]"
        }
    }
}

@Suite("Replay into a spool")
struct ReplaySpoolTests {
    /// A spool over its cap drops routine batches, and the next batch carries the loss upstream
    /// as a gap event: nothing goes missing silently.
    @Test func spoolDropsReachTheWireAsGapEvents() throws {
        let traffic = BoothTraffic(seed: 11, lanes: 2, vehicles: 30)
        let config = GatewayConfig(gatewayID: "synth-gw", layout: traffic.layout, batchPolicy: BatchPolicy(window: .seconds(5)))
        let path = temporaryDirectory("lanegate-replay") + "/spool.db"
        let spool = Spool(path: path, gatewayID: "synth-gw", settings: SpoolSettings(maxBytes: 4_000, minFreeDiskBytes: 0), nowUTC: 0)
        let replay = LaneGateway.Replay(config: config, pseudonymizer: nil, spool: spool) { _, _ in }
        for d in traffic.generate().detections { replay.feed(d) }
        replay.finish()

        var reported: UInt64 = 0, keptEvents = 0
        for batch in spool.batches(after: 0, limit: 10_000) {
            let decoded = try BatchDecoder.decode(batch.body)
            for event in decoded.events {
                if case .gap(let gap) = event { reported += gap.lost } else { keptEvents += 1 }
            }
        }
        let dropped = replay.statistics.events - keptEvents
        #expect(replay.statistics.batches > spool.status().batches && dropped > 0, "the cap made the spool drop batches")
        #expect(reported > 0, "the drops reached the batches as gap events")
        #expect(reported + spool.unreportedLosses().reduce(0) { $0 + $1.events } >= UInt64(dropped),
                "every dropped event is reported or still pending: \(reported) reported, \(dropped) dropped")
    }
}
