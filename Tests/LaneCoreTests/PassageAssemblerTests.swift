import LaneCore
import Testing

/// The rules that join a lane's reads into passage records, one case each: what joins, what
/// stays empty, and which vehicle a read between two of them belongs to.
@Suite("Passage rules")
struct PassageAssemblerTests {
    /// The test lane with loop b as its passage loop and the booth (reader and seals) as the
    /// read point that joins it, within 4 s.
    static var layout: LaneLayout {
        var layout = testLayout()
        layout.passages = [.init(loop: 1, readPoints: [0], window: .seconds(4))]
        return layout
    }

    func passages(_ detections: [Detection], until: Int64? = nil) -> [PassageRecord] {
        run(detections.sorted { $0.time < $1.time }, layout: Self.layout, until: until).events
            .compactMap { if case .passage(let p) = $0 { p } else { nil } }
    }

    func call(at t: Int64, for length: Int64 = 1500) -> [Detection] {
        [edge(line: 1, true, at: t), edge(line: 1, false, at: t + length)]
    }

    @Test func aVehicleAloneIsARecordWithEmptyParts() {
        let records = passages(call(at: 10_000))
        #expect(records == [PassageRecord(loop: 1, onTime: ms(10_000), offTime: ms(11_500))])
    }

    @Test func theBoothsTagAndSealJoinTheCallTheyFollow() {
        let records = passages(call(at: 10_000) + [read(tagA, at: 12_000), read(tagA, at: 12_100), sealReport(.sealed, at: 12_500),
                                                   read(tagB, at: 20_000, port: 3)])
        #expect(records.count == 1)
        #expect(records.first?.tags == [tagA], "the exit's read is not the booth's")
        #expect(records.first?.seals == [SealID(manufacturer: 0x0E1F, tag: 0xC0FFEE)])
    }

    @Test func aReadOutsideTheWindowJoinsNothing() {
        let records = passages(call(at: 10_000) + [read(tagA, at: 5_000), read(tagB, at: 15_600)])
        #expect(records.count == 1 && records.first?.tags == [])
    }

    /// Once the next vehicle is on the loop, what the booth reads is the next vehicle's.
    @Test func aReadAfterTheNextCallStartedIsTheNextVehicles() {
        let records = passages(call(at: 10_000) + call(at: 13_000) + [read(tagA, at: 12_000), read(tagB, at: 13_400)])
        #expect(records.map(\.tags) == [[tagA], [tagB]])
    }

    /// A vehicle still at the booth whose tag drops out and is heard again while the next one
    /// crosses the loop is not joined to the next one.
    @Test func aTagHeardAgainSoonIsNotJoinedTwice() {
        let records = passages(call(at: 10_000) + call(at: 20_000) + [read(tagA, at: 11_000), read(tagA, at: 20_500)])
        #expect(records.map(\.tags) == [[tagA], []])
    }

    /// The record is made once the window and a second more have passed: not before, since a
    /// read may still come.
    @Test func aRecordWaitsForItsWindow() {
        #expect(passages(call(at: 10_000), until: 16_400).isEmpty)
        #expect(passages(call(at: 10_000), until: 16_600).count == 1)
    }

    @Test func aLaneWithoutARuleMakesNoRecords() {
        let events = run(call(at: 10_000) + [read(tagA, at: 11_000)]).events
        #expect(!events.contains { if case .passage = $0 { true } else { false } })
    }
}
