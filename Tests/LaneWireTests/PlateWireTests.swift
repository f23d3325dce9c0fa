import Foundation
import LaneCore
import LaneWire
import SwiftProtobuf
import Testing

/// `plate_read` on the wire: the plate as a 16-byte pseudonym (or its text where the site keeps
/// raw plates) in the batch's plate table, every optional value sparse.
@Suite("Plate reads on the wire")
struct PlateWireTests {
    static let pseudonym = (0..<16).map { UInt8($0 * 7) }
    static let picture = (0..<32).map { UInt8(255 - $0) }
    static let reads: [LaneEvent] = [
        .plateRead(PlateRead(readPoint: 0, time: us(1_000_000), plate: .pseudonym(pseudonym), confidence: 912, region: "us-tx",
                             picture: picture)),
        .plateRead(PlateRead(readPoint: 1, time: us(1_500_000), plate: nil, confidence: 310)),
        .plateRead(PlateRead(readPoint: 0, time: us(2_000_000), plate: .raw(PlateText("ABC 123")!))),
        .plateRead(PlateRead(readPoint: 1, time: us(2_500_000), plate: .pseudonym(pseudonym), region: "us-tx")),
    ]

    static func batch(_ events: [LaneEvent]) -> EventBatch {
        var batch = sampleBatch
        batch.events = events
        return batch
    }

    @Test func everyPartOfAReadSurvivesTheRoundTrip() throws {
        var counters = PipelineCounters()
        counters.plateReads = 4
        var batch = Self.batch(Self.reads)
        batch.counters = counters
        let decoded = try BatchDecoder.decode(encoder.encode(batch))
        // Indices differ (the batch's own name table); names, values and times must not.
        #expect(decoded.events.map { $0.json(naming: decoded) } == Self.reads.map { $0.json(naming: layout) })
        #expect(decoded.counters?.plateReads == 4)
        let json = decoded.events.map { $0.json(naming: decoded) }
        #expect(json[0].contains(#""plate":"\#(Self.pseudonym.lowercaseHex)""#) && json[0].contains(#""confidence":0.912"#))
        #expect(json[0].contains(#""region":"us-tx""#) && json[0].contains(#""picture_sha256":"\#(Self.picture.lowercaseHex)""#))
        #expect(json[1].contains(#""plate_missed":true"#) && !json[1].contains("region"))
        #expect(json[2].contains(#""plate_text":"ABC123""#))
    }

    /// The plate and passage tables are part of the contract like the rest; the golden frame also seeds the
    /// batch decoder's fuzzer. (Regenerate with LANEGATE_UPDATE_GOLDEN=1 only on purpose.)
    @Test func goldenBytes() throws {
        let events = Self.reads + PassageWireTests.passages
        let batch = Self.batch(events)
        let bytes: [UInt8] = try encoder.message(for: batch).serializedBytes()
        let pbPath = goldenPath("batch-plates-v1.pb"), zstPath = goldenPath("batch-plates-v1.pb.zst")
        if ProcessInfo.processInfo.environment["LANEGATE_UPDATE_GOLDEN"] == "1" {
            try Data(bytes).write(to: URL(fileURLWithPath: pbPath))
            try Data(encoder.encode(batch)).write(to: URL(fileURLWithPath: zstPath))
        }
        #expect(bytes == (try [UInt8](Data(contentsOf: URL(fileURLWithPath: pbPath)))))
        let decoded = try BatchDecoder.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: zstPath))))
        #expect(decoded.events.map { $0.json(naming: decoded) } == events.map { $0.json(naming: layout) })
    }

    @Test func plateKeysAndRegionsAreWrittenOncePerBatch() {
        let m = encoder.message(for: Self.batch(Self.reads))
        #expect(m.plates.count == 2, "one pseudonym used twice, one raw plate")
        #expect(m.plateReads.plateRows == [0, 2, 3] && m.plateReads.plate == [0, 1, 0])
        #expect(m.plateReads.rawRows == [2])
        #expect(m.plateReads.confidenceRows == [0, 1] && m.plateReads.confidence == [912, 310])
        #expect(m.plateReads.regionRows == [0, 3] && m.plateReads.region[0] == m.plateReads.region[1])
        #expect(m.plateReads.pictureRows == [0] && m.plateReads.pictureSha256 == [Data(Self.picture)])
    }

    func rejects(_ change: (inout Lanegate_V1_Batch) -> Void, mentioning text: String) throws {
        var m = encoder.message(for: Self.batch(Self.reads))
        change(&m)
        let bytes = Zstd.compress(try m.serializedBytes())
        do throws(BatchDecodingError) {
            _ = try BatchDecoder.decode(bytes)
            Issue.record("accepted a bad plate table; expected \(text)")
        } catch {
            #expect(error.description.contains(text), "\(error.description)")
        }
    }

    /// A hostile or damaged batch cannot smuggle a raw plate in as a pseudonym, nor the other way.
    @Test func badPlateTablesAreRefused() throws {
        try rejects({ $0.plates[0] = Data(count: 15) }, mentioning: "plates[0] has 15 bytes; a pseudonym has 16")
        try rejects({ $0.plates[1] = Data("abc 1".utf8) }, mentioning: "plates[1] is no plate text")
        try rejects({ $0.plates[1] = Data("\u{0}\u{1}".utf8) }, mentioning: "plates[1] is no plate text")
        try rejects({ $0.plateReads.plate[1] = 9 }, mentioning: "plate index 9 outside the table of 2")
        try rejects({ $0.plateReads.rawRows = [1] }, mentioning: "raw_rows names a row without a plate")
        try rejects({ $0.plateReads.confidence[0] = 1001 }, mentioning: "over 1000 per mille")
        try rejects({ $0.plateReads.pictureSha256[0] = Data(count: 31) }, mentioning: "picture_sha256 has 31 bytes, not 32")
        try rejects({ $0.plateReads.plateRows = [2, 0, 3] }, mentioning: "plate_reads.plate rows must ascend")
        try rejects({ $0.plateReads.readPoint.removeLast() }, mentioning: "plate_reads.read_point has 3 entries for 4 events")
        try rejects({ $0.plateReads.region[0] = 500 }, mentioning: "name index 500")
    }
}

/// `passage` on the wire: tags and seals as counted runs in flattened columns, the plate as in
/// `plate_reads`.
@Suite("Passage records on the wire")
struct PassageWireTests {
    static let tagA = TagID(hex: "3005fb63ac1f3841ec880467")!, tagB = TagID(hex: "e2801160600002054e5a0001")!
    static let seal = SealID(manufacturer: 0x0E1F, tag: 0xC0FFEE)
    static let passages: [LaneEvent] = [
        .passage(PassageRecord(loop: 1, onTime: us(1_000_000), offTime: us(3_500_000), tags: [tagA, tagB], seals: [seal],
                               plate: .pseudonym(PlateWireTests.pseudonym), plateConfidence: 870)),
        .passage(PassageRecord(loop: 1, onTime: us(9_000_000), offTime: us(10_000_000), plateMissed: true)),
        .passage(PassageRecord(loop: 0, onTime: us(11_000_000), offTime: us(12_000_000), tags: [tagA], plate: .raw(PlateText("XY12")!))),
    ]

    @Test func aRecordComesBackWithAllItsPartsAndItsEmptyOnes() throws {
        var batch = sampleBatch
        batch.events = Self.passages
        let decoded = try BatchDecoder.decode(encoder.encode(batch))
        #expect(decoded.events.map { $0.json(naming: decoded) } == Self.passages.map { $0.json(naming: layout) })
        guard case .passage(let first) = decoded.events[0], case .passage(let second) = decoded.events[1] else {
            Issue.record("not passages: \(decoded.events)")
            return
        }
        #expect(first.tags == [Self.tagA, Self.tagB] && first.seals == [Self.seal] && first.plateConfidence == 870)
        #expect(first.onTime == us(1_000_000) && first.offTime == us(3_500_000))
        #expect(second.tags.isEmpty && second.seals.isEmpty && second.plate == nil && second.plateMissed)
        let m = encoder.message(for: batch)
        #expect(m.passages.tagCount == [2, 0, 1] && m.passages.tag == [0, 1, 0] && m.tags.count == 2)
        #expect(m.passages.sealCount == [1, 0, 0] && m.passages.plateRows == [0, 2] && m.passages.rawRows == [2])
        #expect(m.passages.plateMissedRows == [1])
    }

    func rejects(_ change: (inout Lanegate_V1_Batch) -> Void, mentioning text: String) throws {
        var batch = sampleBatch
        batch.events = Self.passages
        var m = encoder.message(for: batch)
        change(&m)
        let bytes = Zstd.compress(try m.serializedBytes())
        do throws(BatchDecodingError) {
            _ = try BatchDecoder.decode(bytes)
            Issue.record("accepted a bad passage table; expected \(text)")
        } catch {
            #expect(error.description.contains(text), "\(error.description)")
        }
    }

    /// Counts that do not add up to the flattened columns are refused before any row is read,
    /// a count that would wrap 32 bits among them.
    @Test func countsThatDisagreeWithTheirColumnsAreRefused() throws {
        try rejects({ $0.passages.tagCount[1] = 1 }, mentioning: "passages.tag has 3 entries for tag_count's 4")
        try rejects({ $0.passages.tagCount = [UInt32.max, 3, 1] }, mentioning: "for tag_count's 4294967299")
        try rejects({ $0.passages.sealManufacturer.append(1) }, mentioning: "seal_manufacturer 2 for seal_count's 1")
        try rejects({ $0.passages.tag[2] = 7 }, mentioning: "tag index 7 outside the table of 2")
        try rejects({ $0.passages.plateMissedRows = [0] }, mentioning: "a passage with a plate cannot have missed it")
        try rejects({ $0.passages.occupancy.removeLast() }, mentioning: "passages.occupancy has 2 entries for 3 events")
        try rejects({ $0.passages.plateConfidence[0] = 5000 }, mentioning: "over 1000 per mille")
    }
}
