import LaneCore
import Testing

/// A camera's read becomes a `plate_read` on the read point its (camera, channel) belongs to,
/// its plate pseudonymised with the site key unless the camera keeps raw plates.
@Suite("Plate reads in the pipeline")
struct PlatePipelineTests {
    static let layout = LaneLayout(
        devices: [.init(name: "cam-1", kind: .camera), .init(name: "cam-2", kind: .camera, keepsRawPlates: true)],
        readPoints: [.init(name: "lane1/plate", lane: "lane1", antennas: [.init(device: DeviceIndex(0), port: 1)]),
                     .init(name: "lane2/plate", lane: "lane2", antennas: [.init(device: DeviceIndex(1), port: 1)])])
    static let key = TagPseudonymizer(keyBytes: Array("a site key of 32 bytes, not less".utf8))!

    func sighting(_ plate: String?, camera: UInt16 = 0, channel: UInt8 = 1, at t: Int64) -> PlateSighting {
        PlateSighting(time: ms(t), device: DeviceIndex(camera), channel: channel, plate: plate.flatMap { PlateText($0) },
                      confidence: 870, region: "mx-tam", picture: Array(repeating: 0xAB, count: 32))
    }

    func run(_ sightings: [PlateSighting]) -> (events: [PlateRead], counters: PipelineCounters) {
        let pipeline = LanePipeline(layout: Self.layout, pseudonymizer: Self.key)
        var events: [LaneEvent] = []
        for s in sightings { pipeline.process(s, into: &events) }
        return (events.compactMap { if case .plateRead(let r) = $0 { r } else { nil } }, pipeline.counters)
    }

    @Test func aPlateLeavesAsItsPseudonymTheSameForConfusableReads() {
        let (reads, counters) = run([sighting("ABO 123", at: 1000), sighting("ab0-123", at: 2000), sighting("ABO 124", at: 3000)])
        #expect(reads.count == 3 && counters.plateReads == 3)
        guard reads.count == 3, case .pseudonym(let first) = reads[0].plate, case .pseudonym(let second) = reads[1].plate,
              case .pseudonym(let other) = reads[2].plate else {
            Issue.record("plates must leave pseudonymised: \(reads)")
            return
        }
        #expect(first.count == 16 && first == second, "an O read as a 0 is the same plate")
        #expect(first != other)
        #expect(first == Self.key.pseudonym(forPlate: PlateText("ABO123")!))
        #expect(reads[0].readPoint == 0 && reads[0].time == ms(1000) && reads[0].confidence == 870 && reads[0].region == "mx-tam")
        #expect(reads[0].picture == Array(repeating: 0xAB, count: 32))
    }

    @Test func aCameraThatKeepsRawPlatesSendsTheText() {
        let (reads, _) = run([sighting("xyz 987", camera: 1, at: 1000)])
        #expect(reads.first?.plate == .raw(PlateText("XYZ987")!) && reads.first?.readPoint == 1)
    }

    /// A vehicle without a readable plate is a read with no plate: never a guess.
    @Test func aMissedPlateIsAReadWithoutAPlate() {
        let (reads, counters) = run([sighting(nil, at: 1000)])
        #expect(reads.count == 1 && reads.first?.plate == nil && counters.plateReads == 1)
    }

    @Test func aChannelNoReadPointNamesIsCountedNotGuessed() {
        let (reads, counters) = run([sighting("ABC123", channel: 2, at: 1000), sighting("ABC123", camera: 7, at: 2000)])
        #expect(reads.isEmpty)
        #expect(counters.unmapped == 2 && counters.plateReads == 2)
    }

    /// A read behind the pipeline's clock still counts, as late, like a slow device's detection.
    @Test func aLateReadIsKeptAndCounted() {
        let (reads, counters) = run([sighting("ABC123", at: 5000), sighting("ABC124", at: 4000)])
        #expect(reads.count == 2 && counters.late == 1)
    }

    @Test func theInboxIsBoundedAndCountsWhatItRefusesByCamera() {
        let inbox = PlateInbox(capacity: 2)
        #expect(inbox.push(sighting("A1", at: 1)) && inbox.push(sighting("A2", at: 2)))
        #expect(!inbox.push(sighting("A3", camera: 1, at: 3)) && !inbox.push(sighting("A4", camera: 1, at: 4)))
        var out: [PlateSighting] = []
        let drops = inbox.take(into: &out)
        #expect(out.count == 2 && drops == [DeviceIndex(1): 2] && inbox.totalDrops == 2)
        #expect(inbox.take(into: &out).isEmpty, "drops are reported once")
        #expect(inbox.push(sighting("A5", at: 5)), "taking makes room")
    }
}
