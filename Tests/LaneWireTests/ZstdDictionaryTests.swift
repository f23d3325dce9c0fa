import Foundation
import LaneCore
import LaneWire
import Testing

/// Batches compressed with the shipped dictionary: smaller, self-describing, readable by any
/// collector that has it, and refused with a reason by one that does not.
@Suite("zstd dictionary")
struct ZstdDictionaryTests {
    /// A batch of a live five-second window: three events.
    static let small: EventBatch = {
        var batch = sampleBatch
        batch.events = Array(sampleEvents.prefix(3))
        batch.counters = nil
        return batch
    }()

    static func frameDictionaryID(_ frame: [UInt8]) -> UInt32 {
        // Frame_Header_Descriptor: Dictionary_ID_flag is its low two bits (here 2: two bytes).
        let descriptor = frame[4], singleSegment = descriptor & 0x20 != 0
        precondition(descriptor & 3 == 2, "this test reads two-byte dictionary ids only")
        let at = 5 + (singleSegment ? 0 : 1)
        return UInt32(frame[at]) | UInt32(frame[at + 1]) << 8
    }

    @Test func aSmallBatchIsSmallerWithTheDictionaryAndDecodesTheSame() throws {
        let use = DictionaryUse(policy: .always)
        let withDictionary = BatchEncoder(gatewayID: "pharr-gw-01", layout: layout, dictionaryUse: use).encode(Self.small)
        let without = encoder.encode(Self.small)
        #expect(withDictionary.count < without.count * 3 / 4, "\(withDictionary.count) bytes against \(without.count)")
        #expect(Self.frameDictionaryID(withDictionary) == ZstdDictionary.current.id)
        #expect(ZstdDictionary.current.id == 32769)
        let decoded = try BatchDecoder.decode(withDictionary)
        #expect(decoded.events.map { $0.json(naming: decoded) } == Self.small.events.map { $0.json(naming: layout) })
    }

    /// Frames compressed with dictionary 1 before now stay readable (the committed one was made
    /// by the zstd tool, not by this code).
    @Test func theGoldenFrameWithDictionaryOneDecodes() throws {
        let frame = try [UInt8](Data(contentsOf: URL(fileURLWithPath: goldenPath("batch-v1-dictionary1.pb.zst"))))
        #expect(Self.frameDictionaryID(frame) == 32769)
        let decoded = try BatchDecoder.decode(frame)
        #expect(decoded.events.map { $0.json(naming: decoded) } == sampleEvents.map { $0.json(naming: layout) })
    }

    /// A gateway newer than this program: the error names the dictionary it lacks.
    @Test func aFrameNeedingAnUnknownDictionaryIsRefusedByName() {
        var frame = BatchEncoder(gatewayID: "g", layout: layout, dictionaryUse: DictionaryUse(policy: .always)).encode(Self.small)
        let at = 5 + (frame[4] & 0x20 != 0 ? 0 : 1)
        frame[at] = 0x40; frame[at + 1] = 0x9C  // 40000
        #expect(Self.frameDictionaryID(frame) == 40000)
        do {
            _ = try BatchDecoder.decode(frame)
            Issue.record("a frame needing dictionary 40000 decoded")
        } catch {
            #expect(String(describing: error).contains("dictionary 40000"), "\(error)")
        }
    }

    /// The uplink's way back for a collector older than the dictionary.
    @Test func aFrameIsCompressedAgainWithoutItsDictionary() throws {
        let withDictionary = BatchEncoder(gatewayID: "g", layout: layout, dictionaryUse: DictionaryUse(policy: .always)).encode(Self.small)
        let plain = try #require(Zstd.withoutDictionary(withDictionary))
        #expect(plain[4] & 3 == 0, "no dictionary id in the header")
        #expect(try Zstd.decompress(plain, limit: 1 << 20) == Zstd.decompress(withDictionary, limit: 1 << 20))
        #expect(Zstd.withoutDictionary(plain) == nil && Zstd.withoutDictionary([1, 2, 3]) == nil)
        #expect(Zstd.withoutDictionary(withDictionary) == plain, "the same bytes every time, so a retry is a duplicate")
    }

    /// `auto` follows the last collector answer; `always` and `never` ignore announcements.
    @Test func theDictionaryIsTakenUpAndDroppedAsCollectorsAnnounceIt() {
        let auto = DictionaryUse(policy: .auto)
        #expect(auto.dictionary == nil)
        #expect(auto.collectorAnswered(announcing: "32769"))
        #expect(auto.dictionary?.id == 32769)
        #expect(!auto.collectorAnswered(announcing: "7, 32769"), "still on: no change")
        #expect(auto.collectorAnswered(announcing: nil))
        #expect(auto.dictionary == nil)
        #expect(!auto.collectorAnswered(announcing: "32770"), "another dictionary is not this one")
        #expect(auto.dictionary == nil)

        let always = DictionaryUse(policy: .always), never = DictionaryUse(policy: .never)
        #expect(!always.collectorAnswered(announcing: nil) && always.dictionary != nil)
        #expect(!never.collectorAnswered(announcing: "32769") && never.dictionary == nil)
        #expect(ZstdDictionary.announcement == "32769")
    }
}
