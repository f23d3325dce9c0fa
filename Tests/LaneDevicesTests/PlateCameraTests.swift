import Foundation
import LaneCore
@testable import LaneDevices
import Testing

/// Plate cameras' pushes, from captures written to the formats' public documentation (the
/// pictures' digests below were computed apart from this project, with Python's hashlib), and
/// as an attacker would send them.
@Suite("plate cameras' push formats")
struct PlateCameraTests {
    static func golden(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/Plates/\(name)")
        return Array(try Data(contentsOf: url))
    }

    static let platePicture = PictureDigest(name: "licensePlatePicture.jpg", bytes: 86,
                                            sha256: "7038c303e5a32f8fcf9f9c3cc58137eb9418dac2bb187a0f5be0300cb653a085")
    static let scenePicture = PictureDigest(name: "detectionPicture.jpg", bytes: 222,
                                            sha256: "b44f8eb189c64d4b7b07cacbd8be38b622bdd5631526790fda0c431ee247f3f3")

    @Test func aHikvisionANPREventGivesItsPlateTimeAndPictureDigests() throws {
        let event = try HikvisionANPREvent.decode(body: try Self.golden("hikvision-anpr.multipart"),
                                                  contentType: "multipart/form-data; boundary=boundary")
        guard case .read(let read) = event else { Issue.record("not a read: \(event)"); return }
        #expect(read.reported == "SON-4821-B" && read.plate?.shown == "SON4821B")
        #expect(read.confidence == 0.93 && read.region == "MEX" && read.direction == "forward" && read.vehicleType == "truck")
        #expect(read.cameraUTC == 1_796_058_942_000_000_000, "10:15:42 at UTC-7")
        #expect(read.camera == "10.20.3.41/1")
        #expect(read.pictures == [Self.platePicture, Self.scenePicture])
    }

    @Test func aHikvisionCamerasOtherEventsAreToldApartAndAPlateItCouldNotReadIsEmpty() throws {
        let loss = try HikvisionANPREvent.decode(body: try Self.golden("hikvision-videoloss.xml"), contentType: "application/xml")
        #expect(loss == .other(eventType: "videoloss"))
        let text = String(decoding: try Self.golden("hikvision-anpr.multipart"), as: UTF8.self)
        for unread in ["unknown", "无车牌"] {
            let body = Array(text.replacingOccurrences(of: "SON-4821-B", with: unread).utf8)
            guard case .read(let read) = try HikvisionANPREvent.decode(body: body, contentType: "multipart/form-data; boundary=\"boundary\"")
            else { Issue.record("not a read"); continue }
            #expect(read.reported == "" && read.plate == nil, "\(unread)")
        }
    }

    @Test func aPlateRecognizerStreamWebhookGivesEachResultWithItsCandidates() throws {
        let reads = try PlateWebhookEvent.decode(body: try Self.golden("platerecognizer-stream.json"), contentType: "application/json")
        #expect(reads.count == 1)
        let read = try #require(reads.first)
        #expect(read.plate?.shown == "SON4821B" && read.confidence == 0.902 && read.region == "mx" && read.camera == "lane3-north")
        #expect(read.candidates.map(\.shown) == ["S0N4821B", "SON482IB"], "the plate itself is not its own candidate")
        #expect(read.candidates.allSatisfy { $0.matchingKey == read.plate?.matchingKey }, "each misread folds to the plate")
        #expect(read.cameraUTC == 1_796_058_942_318_240_000 && read.direction == "265" && read.vehicleType == "Big Truck")
        #expect(read.pictures.isEmpty)

        let withImage = try PlateWebhookEvent.decode(body: try Self.golden("platerecognizer-stream-image.multipart"),
                                                     contentType: "multipart/form-data; boundary=a3f1c0de8b2e4f6d")
        #expect(withImage.map(\.plate) == [read.plate])
        #expect(withImage.first?.pictures == [PictureDigest(name: "17-15-42.318240.jpg", bytes: 222, sha256: Self.scenePicture.sha256)])
    }

    @Test func aRekorScoutGroupGivesItsBestPlateInPercentAndMilliseconds() throws {
        let reads = try PlateWebhookEvent.decode(body: try Self.golden("rekor-alpr-group.json"), contentType: "application/json; charset=utf-8")
        let read = try #require(reads.first)
        #expect(reads.count == 1 && read.plate?.shown == "AZ7K41C" && read.region == "us-az" && read.camera == "1703")
        #expect(abs((read.confidence ?? 0) - 0.941) < 1e-9 && read.cameraUTC == 1_796_055_342_318_000_000)
        #expect(read.candidates.map(\.shown) == ["AZ7K4IC", "A27K41C"] && read.vehicleType == "tractor-trailer" && read.direction == "181.5")
        #expect(read.pictures == [PictureDigest(name: "plate_crop_jpeg", bytes: 86, sha256: Self.platePicture.sha256)])
        // A heartbeat on the same webhook is no read and no error.
        #expect(try PlateWebhookEvent.decode(body: Array(#"{"data_type":"heartbeat","agent_uid":"BOOTH3-PC"}"#.utf8),
                                             contentType: "application/json").isEmpty)
    }

    @Test func platesAreShownUpperCaseWithoutSpacesAndMatchedWithOAndIFolded() throws {
        #expect(PlateText(" son 4821-b ")?.shown == "SON4821B")
        #expect(PlateText("S0N482IB")?.matchingKey == PlateText("SON4821B")?.matchingKey)
        #expect(PlateText("SON4821B")?.matchingKey == "S0N4821B")
        #expect(PlateText("") == nil && PlateText(" - ") == nil && PlateText("ABC/123") == nil && PlateText("ÑAB123") == nil)
        #expect(PlateText("ABCDEFGHJKLM") != nil && PlateText("ABCDEFGHJKLMN") == nil, "12 characters at most")

        let key = try #require(TagPseudonymizer(keyBytes: Array("a site key of sixteen+ bytes".utf8)))
        let other = try #require(TagPseudonymizer(keyBytes: Array("another site's key, 16+ bytes".utf8)))
        let plate = try #require(PlateText("SON4821B")), misread = try #require(PlateText("S0N482IB"))
        #expect(key.pseudonym(forPlate: plate) == key.pseudonym(forPlate: misread))
        #expect(key.pseudonym(forPlate: plate) != other.pseudonym(forPlate: plate))
        #expect(key.pseudonym(forPlate: plate).count == 16)
        #expect(key.pseudonym(forPlate: plate) != key.pseudonym(for: TagID(bytes: Array("S0N4821B".utf8))!).bytes,
                "a plate's pseudonym is never a tag's")
    }

    @Test func cameraTimesAreReadInEveryZoneAndNothingElseIs() {
        #expect(CameraTime.utcNanoseconds("2026-11-30T17:15:42Z") == 1_796_058_942_000_000_000)
        #expect(CameraTime.utcNanoseconds("2026-11-30 10:15:42.5-0700") == 1_796_058_942_500_000_000)
        #expect(CameraTime.utcNanoseconds("2026-12-01T02:15:42.000000001+09:00") == 1_796_058_942_000_000_001)
        #expect(CameraTime.utcNanoseconds("1969-12-31T23:59:59Z") == -1_000_000_000)
        // The ends of what Int64 nanoseconds hold; past them, none (the fuzzer's find: a year 1013).
        #expect(CameraTime.utcNanoseconds("2262-04-11T23:47:16.854775807Z") == .max)
        #expect(CameraTime.utcNanoseconds("1677-09-21T00:12:44Z") == -9_223_372_036_000_000_000)
        for outside in ["2262-04-11T23:47:16.854775808Z", "1013-11-30T17:15:42.318240Z", "9999-12-31T23:59:59-12:00", "0000-01-01T00:00:00Z"] {
            #expect(CameraTime.utcNanoseconds(outside) == nil, "\(outside)")
        }
        for bad in ["", "2026-11-30T17:15:42", "2026-13-30T17:15:42Z", "2026-11-30T25:15:42Z", "2026-11-30T17:15:42.Z",
                    "2026-11-30T17:15:42+7", "２０２６-11-30T17:15:42Z", "2026-11-30T17:15:42Z trailing"] {
            #expect(CameraTime.utcNanoseconds(bad) == nil, "\(bad)")
        }
    }

    @Test func brokenOrHostilePushesGetTheirKindOfError() throws {
        let anpr = try Self.golden("hikvision-anpr.multipart")
        func hikvision(_ body: [UInt8], _ type: String = "multipart/form-data; boundary=boundary") -> PlateReportError.Kind? {
            do { _ = try HikvisionANPREvent.decode(body: body, contentType: type); return nil } catch { return error.kind }
        }
        func webhook(_ body: String, _ type: String = "application/json") -> PlateReportError.Kind? {
            do { _ = try PlateWebhookEvent.decode(body: Array(body.utf8), contentType: type); return nil } catch { return error.kind }
        }
        #expect(hikvision(anpr) == nil)
        #expect(hikvision(anpr, "image/jpeg") == .unsupported)
        #expect(hikvision(Array(anpr.prefix(anpr.count - 20))) == .malformed, "cut short")
        #expect(hikvision(anpr, "multipart/form-data; boundary=other") == .malformed)
        #expect(hikvision(Array(String(decoding: anpr, as: UTF8.self).replacingOccurrences(of: "</ANPR>", with: "").utf8)) == .malformed)
        let entities = #"<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><EventNotificationAlert><eventType>&a;</eventType></EventNotificationAlert>"#
        #expect(hikvision(Array(entities.utf8), "text/xml") == .malformed, "no DTD, so no entity expansion")
        let deep = String(repeating: "<a>", count: 1000) + String(repeating: "</a>", count: 1000)
        #expect(hikvision(Array(deep.utf8), "text/xml") == .tooLarge)
        let parts = (0..<40).map { "--b\r\nContent-Disposition: form-data; name=\"p\($0)\"\r\n\r\nx\r\n" }.joined() + "--b--\r\n"
        #expect(hikvision(Array(parts.utf8), "multipart/form-data; boundary=b") == .tooLarge)
        #expect(hikvision(Array("<EventNotificationAlert><eventType>ANPR</eventType></EventNotificationAlert>".utf8), "text/xml") == .malformed,
                "an ANPR event without a plate field")
        // A body of near-delimiters is searched in linear time: this returns at once.
        let near = Array(repeating: UInt8(ascii: "-"), count: 2_000_000)
        #expect(hikvision(near, "multipart/form-data; boundary=" + String(repeating: "-", count: 69) + "x") == .malformed)

        #expect(webhook("{") == .malformed)
        #expect(webhook(#"{"data":{"results":[{"plate":42}]}}"#) == .malformed)
        #expect(webhook(#"{"data_type":"alpr_group"}"#) == .malformed)
        #expect(webhook("plate=ABC123", "application/x-www-form-urlencoded") == .unsupported)
        #expect(webhook(#"{"data":{"results":[]}}"#) == nil)
    }
}
