import Foundation
import LaneCore
import LaneSpool
import LaneTestSupport
import LaneWire
import Testing

@Suite("Spool reader (offline)")
struct SpoolReaderTests {
    /// A spool holding three real encoded batches, one of them dead-lettered, and one loss.
    func makeSpool() -> String {
        let path = temporaryDirectory() + "/spool.db"
        let encoder = BatchEncoder(gatewayID: "gw-1", layout: layout)
        let spool = Spool(path: path, gatewayID: "gw-1", settings: SpoolSettings(minFreeDiskBytes: 0), nowUTC: t0)
        for sequence in UInt64(1)...3 {
            let events = (0..<Int(sequence)).map { arrival(Int64($0) * 1000, "0\($0)") }
            let b = EventBatch(sequence: sequence, events: events, counters: nil,
                               anchor: ClockAnchor(monotonic: .zero, utcNanoseconds: t0, sync: .unknown, maxErrorMicros: -1, estimatedErrorMicros: -1),
                               priority: sequence == 2)
            spool.commit(SpooledBatch(sequence: sequence, priority: b.priority, events: events.count,
                                      createdUTC: t0 + Int64(sequence) * minute, body: encoder.encode(b)))
        }
        spool.deadLetter(1, status: 422, reason: "unknown read point", nowUTC: t0)
        return path
    }

    @Test func summaryAndListingMatchWhatWasCommitted() throws {
        let reader = try SpoolReader(path: makeSpool())
        let s = try reader.summary()
        #expect(s.gatewayID == "gw-1" && s.batches == 2 && s.priorityBatches == 1 && s.events == 5)
        #expect(s.oldest?.sequence == 2 && s.newest?.sequence == 3 && s.nextSequence == 4 && s.deadLetters == 1)
        #expect(try reader.entries().map(\.sequence) == [2, 3])
        let dead = try reader.deadLetters()
        #expect(dead.map(\.batch.sequence) == [1] && dead[0].status == 422 && dead[0].reason == "unknown read point")
    }

    @Test func verifyPassesASoundSpoolAndNamesWhatIsWrongInADamagedOne() throws {
        let path = makeSpool()
        let sound = try SpoolReader(path: path).verify()
        #expect(sound.problems.isEmpty && sound.batches == 2 && sound.events == 5)

        // Damage one batch body in place, behind the spool's back.
        let connection = try LaneSQLiteTestAccess.open(path)
        try connection.execute("UPDATE batches SET body = x'28b52ffd0000' WHERE sequence = 3")
        let damaged = try SpoolReader(path: path).verify()
        #expect(damaged.problems.count == 1 && damaged.problems[0].hasPrefix("batch 3:"), "\(damaged.problems)")
    }

    @Test func aFileThatIsNotASpoolIsNamedInTheError() throws {
        let path = temporaryDirectory() + "/notes.db"
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: path))
        #expect { try SpoolReader(path: path) } throws: { "\($0)".contains(path) }
    }
}
