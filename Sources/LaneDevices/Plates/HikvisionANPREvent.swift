import LaneCore

/// A Hikvision camera's ANPR event, as its ISAPI "HTTP listening" pushes it: a
/// `multipart/form-data` body whose XML part (`anpr.xml`) is an `EventNotificationAlert` and whose
/// other parts are pictures (`licensePlatePicture.jpg`, `detectionPicture.jpg`), or that XML alone.
/// The same listener also gets the camera's other events (heartbeats, video loss), which are
/// not errors: they are told apart and ignored.
public enum HikvisionANPREvent {
    public enum Decoded: Sendable, Equatable {
        case read(CameraPlateRead)
        /// Another event type (`videoloss`, a heartbeat…): counted, not a read.
        case other(eventType: String)
    }

    public static func decode(body: [UInt8], contentType: String) throws(PlateReportError) -> Decoded {
        let xml: [UInt8]
        var pictures: [PictureDigest] = []
        if let boundary = MultipartFormData.boundary(contentType: contentType) {
            let parts = try MultipartFormData.parts(body, boundary: boundary)
            guard let event = parts.first(where: isXML) else {
                throw PlateReportError(.unsupported, "no XML part among \(parts.count) (names: \(parts.map { $0.name ?? "?" }.joined(separator: ", ")))")
            }
            xml = event.body
            for part in parts where !isXML(part) && !part.body.isEmpty {
                pictures.append(PictureDigest(name: part.filename ?? part.name ?? "picture", picture: part.body))
            }
        } else if contentType.lowercased().contains("xml") {
            xml = body
        } else {
            throw PlateReportError(.unsupported, "content type \"\(contentType)\" is neither multipart/form-data nor XML")
        }

        let leaves = try XMLLeaves.scan(xml)
        var fields: [String: String] = [:]
        for leaf in leaves where fields[leaf.path] == nil { fields[leaf.path] = leaf.text }
        guard leaves.first?.path.hasPrefix("EventNotificationAlert/") == true else {
            throw PlateReportError(.unsupported, "the XML is not an EventNotificationAlert")
        }
        func field(_ path: String) -> String? { fields["EventNotificationAlert/" + path] }
        let eventType = field("eventType") ?? ""
        guard eventType.uppercased() == "ANPR" else { return .other(eventType: eventType) }
        guard let reported = field("ANPR/licensePlate") ?? field("ANPR/originalLicensePlate") else {
            throw PlateReportError(.malformed, "an ANPR event without ANPR/licensePlate")
        }
        // "unknown" (or the Chinese firmware's 无车牌) is a vehicle seen with no plate read.
        let plate = reported.lowercased() == "unknown" || PlateText(reported) == nil ? "" : reported
        let camera = [field("ipAddress"), field("channelID")].compactMap { $0 }.joined(separator: "/")
        return .read(CameraPlateRead(
            reported: plate, confidence: field("ANPR/confidenceLevel").flatMap(Double.init).map { $0 / 100 },
            region: field("ANPR/country") ?? field("ANPR/region"), cameraUTC: field("dateTime").flatMap(CameraTime.utcNanoseconds),
            camera: camera.isEmpty ? nil : camera, direction: field("ANPR/direction"), vehicleType: field("ANPR/vehicleType"),
            pictures: pictures))
    }

    private static func isXML(_ part: MultipartFormData.Part) -> Bool {
        (part.contentType?.lowercased().contains("xml") ?? false) || (part.name ?? "").lowercased().hasSuffix(".xml")
            || (part.filename ?? "").lowercased().hasSuffix(".xml")
    }
}
