import LaneCore
import LaneDevices
import LaneSimulators
import Testing

/// The simulated plate camera against the gateway's decoders: what it pushes in each format
/// decodes to what it meant to report, and its misreads are of the kinds and rates it was given.
@Suite struct PlateCameraSimulatorTests {
    @Test(arguments: PlateCameraSimulator.Format.allCases)
    func eachPushDecodesToTheShotItWasMadeFrom(_ format: PlateCameraSimulator.Format) throws {
        var rng = SplitMix64(seed: 19)
        let camera = PlateCameraSimulator(format: format, camera: "lane3-north", misreads: .init(missed: 0.2, confusable: 0.2, other: 0.1))
        let utc: Int64 = 1_796_058_942_318_240_000
        for sequence in 0..<200 {
            let shot = camera.read(SimulatedPlates.next(using: &rng), using: &rng)
            let (type, body) = camera.push(shot, utc: utc, sequence: sequence)
            let reads: [CameraPlateRead]
            if format == .hikvisionISAPI {
                guard case .read(let read) = try HikvisionANPREvent.decode(body: body, contentType: type) else {
                    Issue.record("not a read"); return
                }
                reads = [read]
                #expect(read.pictures.map(\.sha256) == [
                    PictureDigest(name: "", picture: PlateCameraSimulator.picture(shot, "licensePlatePicture", sequence: sequence)).sha256,
                    PictureDigest(name: "", picture: PlateCameraSimulator.picture(shot, "detectionPicture", sequence: sequence)).sha256,
                ])
                #expect(read.cameraUTC == utc / 1_000_000_000 * 1_000_000_000, "ISAPI times are whole seconds")
            } else {
                reads = try PlateWebhookEvent.decode(body: body, contentType: type)
            }
            if shot.reported.isEmpty && format == .plateRecognizerStream {
                #expect(reads.isEmpty, "Stream sends no result for a plate it did not read")
                continue
            }
            let read = try #require(reads.first)
            #expect(reads.count == 1 && read.plate?.shown == PlateText(shot.reported)?.shown, "\(shot)")
            #expect(abs((read.confidence ?? -1) - shot.confidence) < 0.006 || shot.reported.isEmpty)
            #expect(read.camera == (format == .hikvisionISAPI ? "lane3-north/1" : "lane3-north"))
            if format == .plateRecognizerStream { #expect(read.cameraUTC == utc - utc % 1000) }
            if format == .rekorScout { #expect(read.cameraUTC == utc / 1_000_000 * 1_000_000) }
        }
    }

    @Test func misreadsComeAtTheirRatesAndOnlyTheConfusableOnesMatchTheirPlate() throws {
        var rng = SplitMix64(seed: 7)
        let camera = PlateCameraSimulator(format: .hikvisionISAPI, camera: "cam")
        var kinds: [PlateCameraSimulator.Shot.Kind: Int] = [:]
        let n = 20_000
        for _ in 0..<n {
            let plate = SimulatedPlates.next(using: &rng)
            #expect(PlateText(plate)?.shown == plate && (7...8).contains(plate.count))
            let shot = camera.read(plate, using: &rng)
            kinds[shot.kind, default: 0] += 1
            switch shot.kind {
            case .exact: #expect(shot.reported == plate)
            case .missed: #expect(shot.reported.isEmpty)
            case .confusable:
                #expect(shot.reported != plate && PlateText(shot.reported)?.matchingKey == PlateText(plate)?.matchingKey)
            case .other:
                #expect(shot.reported != plate && PlateText(shot.reported)?.matchingKey != PlateText(plate)?.matchingKey)
            }
        }
        // Missed: 4 %. A confusable or other misread needs a character it can take for another,
        // so it comes at most at its rate (8 %, 2 %) and, with these plates, at more than half of it.
        let share = { (kind: PlateCameraSimulator.Shot.Kind) in Double(kinds[kind, default: 0]) / Double(n) }
        #expect(abs(share(.missed) - 0.04) < 0.006, "\(kinds)")
        #expect(share(.confusable) > 0.04 && share(.confusable) < 0.086, "\(kinds)")
        #expect(share(.other) > 0.01 && share(.other) < 0.026, "\(kinds)")
    }
}
