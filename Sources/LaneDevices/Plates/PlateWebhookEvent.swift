import FoundationEssentials
import LaneCore

/// The JSON webhooks of plate-recognition software that reads a camera's video: Plate
/// Recognizer Stream (`{"hook": …, "data": {"camera_id", "timestamp", "results": [{"plate",
/// "score", "region", "candidates", …}]}}`) and Rekor Scout's `alpr_group` (`best_plate_number`,
/// `best_confidence` in percent, `epoch_start` in milliseconds, `camera_id`). Either comes as
/// `application/json`, or as `multipart/form-data` with the JSON in a part named `json` and the
/// picture in another (Stream's `upload`).
public enum PlateWebhookEvent {
    public static func decode(body: [UInt8], contentType: String) throws(PlateReportError) -> [CameraPlateRead] {
        var json = body
        var pictures: [PictureDigest] = []
        if let boundary = MultipartFormData.boundary(contentType: contentType) {
            let parts = try MultipartFormData.parts(body, boundary: boundary)
            guard let part = parts.first(where: { $0.name == "json" || ($0.contentType ?? "").lowercased().contains("json") }) else {
                throw PlateReportError(.unsupported, "no part named json among \(parts.count)")
            }
            json = part.body
            for other in parts where other != part && !other.body.isEmpty {
                pictures.append(PictureDigest(name: other.filename ?? other.name ?? "picture", picture: other.body))
            }
        } else if !contentType.lowercased().contains("json") {
            throw PlateReportError(.unsupported, "content type \"\(contentType)\" is neither application/json nor multipart/form-data")
        }

        let envelope: Envelope
        do { envelope = try JSONDecoder().decode(Envelope.self, from: Data(json)) } catch {
            throw PlateReportError(.malformed, "JSON: \(Self.describe(error))")
        }
        if let data = envelope.data {
            // Plate Recognizer Stream: other hook events (a camera's heartbeat) carry no reads.
            guard envelope.hook?.event ?? "recognition" == "recognition" else { return [] }
            let at = data.timestamp.flatMap(CameraTime.utcNanoseconds)
            return data.results.map { r in
                CameraPlateRead(reported: r.plate, confidence: r.score, candidates: (r.candidates ?? []).map(\.plate),
                                region: r.region?.code, cameraUTC: at, camera: data.camera_id?.text, direction: r.direction?.text,
                                vehicleType: r.vehicle?.type, pictures: pictures)
            }
        }
        guard envelope.data_type == "alpr_group" else { return [] }  // Rekor's heartbeats and single frames
        guard let plate = envelope.best_plate_number else { throw PlateReportError(.malformed, "an alpr_group without best_plate_number") }
        var groupPictures = pictures
        if let crop = envelope.best_plate?.plate_crop_jpeg, let bytes = Data(base64Encoded: crop) {
            groupPictures.append(PictureDigest(name: "plate_crop_jpeg", picture: Array(bytes)))
        }
        return [CameraPlateRead(
            reported: plate, confidence: envelope.best_confidence.map { $0 / 100 },
            candidates: (envelope.best_plate?.candidates ?? envelope.candidates ?? []).map(\.plate), region: envelope.best_region,
            cameraUTC: envelope.epoch_start.flatMap { $0.multipliedReportingOverflow(by: 1_000_000).overflow ? nil : $0 * 1_000_000 },
            camera: envelope.camera_id?.text ?? envelope.camera_label, direction: envelope.travel_direction?.text,
            vehicleType: envelope.vehicle?.body_type?.first?.name, pictures: groupPictures)]
    }

    private static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "not valid JSON" }
        switch decoding {
        case .dataCorrupted(let c): return c.codingPath.isEmpty ? "not valid JSON" : "bad value at \(path(c.codingPath))"
        case .keyNotFound(let key, let c): return "missing \(path(c.codingPath + [key]))"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "wrong type at \(path(c.codingPath))"
        @unknown default: return "not valid JSON"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
    }

    // Field names are the formats' own.
    private struct Envelope: Decodable {
        struct Hook: Decodable { var event: String? }
        struct StreamData: Decodable {
            var camera_id: Text?
            var timestamp: String?
            var results: [StreamResult]
        }
        struct StreamResult: Decodable {
            struct Region: Decodable { var code: String? }
            struct Vehicle: Decodable { var type: String? }
            var plate: String
            var score: Double?
            var region: Region?
            var candidates: [Candidate]?
            var vehicle: Vehicle?
            var direction: Text?
        }
        struct Candidate: Decodable { var plate: String }
        struct BestPlate: Decodable {
            var candidates: [Candidate]?
            var plate_crop_jpeg: String?
        }
        struct RekorVehicle: Decodable {
            struct Guess: Decodable { var name: String? }
            var body_type: [Guess]?
        }
        var hook: Hook?
        var data: StreamData?
        var data_type: String?
        var best_plate_number: String?
        var best_confidence: Double?
        var best_region: String?
        var best_plate: BestPlate?
        var candidates: [Candidate]?
        var epoch_start: Int64?
        var camera_id: Text?
        var camera_label: String?
        var travel_direction: Text?
        var vehicle: RekorVehicle?
    }

    /// A value that one sender writes as text and another as a number (`camera_id`, `direction`).
    private struct Text: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
            let single = try decoder.singleValueContainer()
            if let s = try? single.decode(String.self) { text = s } else if let n = try? single.decode(Int64.self) { text = String(n) } else {
                text = String(try single.decode(Double.self))
            }
        }
    }
}
