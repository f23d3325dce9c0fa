import LaneCore
import LaneDevices

/// A licence-plate camera as the booth listener knows it: which device it is, what it pushes, and
/// the SHA-256 of its token (the token itself is not kept).
public struct PlateCamera: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        /// Hikvision ISAPI "HTTP listening": multipart with `anpr.xml` and pictures.
        case hikvisionISAPI = "hikvision-isapi"
        /// Plate Recognizer Stream or Rekor Scout JSON webhooks (told apart by their content).
        case jsonWebhook = "json-webhook"
    }

    public var device: DeviceIndex
    public var name: String
    public var format: Format
    public var tokenDigest: [UInt8]

    public init(device: DeviceIndex, name: String, format: Format, token: String) {
        self.device = device
        self.name = name
        self.format = format
        tokenDigest = Digest.sha256(Array(token.utf8))
    }

    /// Compares digests, whose every byte is compared: how long it takes says nothing about the token.
    func accepts(_ token: String) -> Bool {
        let presented = Digest.sha256(Array(token.utf8))
        return zip(presented, tokenDigest).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The reads in one push, or why it is none.
    func decode(body: [UInt8], contentType: String) throws(PlateReportError) -> [CameraPlateRead] {
        switch format {
        case .hikvisionISAPI:
            switch try HikvisionANPREvent.decode(body: body, contentType: contentType) {
            case .read(let read): return [read]
            case .other: return []
            }
        case .jsonWebhook:
            return try PlateWebhookEvent.decode(body: body, contentType: contentType)
        }
    }
}

extension PlateSighting {
    /// What the pipeline needs of a camera's read: the plate, its confidence and region, and the
    /// digest of its first picture (the plate crop or the scene, as the camera ordered them).
    init(_ read: CameraPlateRead, device: DeviceIndex, time: MonotonicInstant) {
        self.init(time: time, device: device, channel: 1, plate: read.plate,
                  confidence: read.confidence.map { UInt16(($0 * 1000).rounded()) }, region: read.region.map { String($0.prefix(16)) },
                  picture: read.pictures.first.flatMap { hexBytes($0.sha256) })
    }
}

private func hexBytes(_ hex: String) -> [UInt8]? {
    guard let id = TagID(hex: hex) else { return nil }
    return id.bytes
}
