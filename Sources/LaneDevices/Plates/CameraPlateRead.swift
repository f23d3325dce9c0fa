import LaneCore

/// What a licence-plate camera reported of one vehicle, decoded from its push, before the
/// gateway gives it a lane, a time of its own and a pseudonym.
public struct CameraPlateRead: Sendable, Equatable {
    /// The plate as the camera sent it ("" when it saw a vehicle but read no plate).
    public var reported: String
    /// The plate normalised; nil when there is none to read (a missed or unreadable plate).
    public var plate: PlateText?
    /// The camera's confidence in it, 0 to 1.
    public var confidence: Double?
    /// Other readings the camera offered, best first, without the plate itself.
    public var candidates: [PlateText]
    /// Country, state or province code as the camera gives it ("us-ca", "MEX").
    public var region: String?
    /// The camera's own time of the read (UTC nanoseconds), when it sent a readable one. The
    /// gateway stamps the read when it arrives; this is kept to show a camera's clock drift.
    public var cameraUTC: Int64?
    /// The camera's own name for itself (its id, or address and channel).
    public var camera: String?
    public var direction: String?
    public var vehicleType: String?
    /// The pictures that came with it: never forwarded, only their digests.
    public var pictures: [PictureDigest]

    public init(reported: String, confidence: Double? = nil, candidates: [String] = [], region: String? = nil, cameraUTC: Int64? = nil,
                camera: String? = nil, direction: String? = nil, vehicleType: String? = nil, pictures: [PictureDigest] = []) {
        self.reported = reported
        let plate = PlateText(reported)
        self.plate = plate
        self.confidence = confidence.map { min(max($0, 0), 1) }
        var seen = Set(plate.map { [$0] } ?? [])
        self.candidates = candidates.compactMap { PlateText($0) }.filter { seen.insert($0).inserted }
        self.region = region.flatMap { $0.isEmpty ? nil : $0 }
        self.cameraUTC = cameraUTC
        self.camera = camera
        self.direction = direction.flatMap { $0.isEmpty ? nil : $0 }
        self.vehicleType = vehicleType.flatMap { $0.isEmpty ? nil : $0 }
        self.pictures = pictures
    }
}

/// A picture's name, size and SHA-256: a site that keeps its pictures can prove which one a read
/// came with, and the picture itself never leaves the booth.
public struct PictureDigest: Sendable, Hashable {
    public var name: String
    public var bytes: Int
    /// Lower-case hex.
    public var sha256: String

    public init(name: String, bytes: Int, sha256: String) {
        self.name = name
        self.bytes = bytes
        self.sha256 = sha256
    }

    public init(name: String, picture: [UInt8]) {
        self.name = name
        bytes = picture.count
        sha256 = Digest.sha256(picture).lowercaseHex
    }
}

/// ISO 8601 times as cameras write them: `2026-11-30T17:05:09Z`, `…+08:00`, `…-0600`, a space
/// for the `T`, and up to nine digits of fraction. Nil for anything else, and for a time outside
/// what UTC nanoseconds hold (1677 to 2262).
enum CameraTime {
    static func utcNanoseconds(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        func number(_ at: Int, _ n: Int) -> Int64? {
            guard at + n <= b.count else { return nil }
            var v: Int64 = 0
            for c in b[at..<(at + n)] {
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        guard b.count >= 19, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " "),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var i = 19
        var fraction: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 9 { fraction = fraction * 10 + Int64(b[i] - 48); digits += 1 }
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<9 { fraction *= 10 }
        }
        var offsetMinutes: Int64 = 0
        if i == b.count { return nil }  // a local time with no zone: not comparable
        if b[i] == UInt8(ascii: "Z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign: Int64 = b[i] == UInt8(ascii: "-") ? -1 : 1
            guard let h = number(i + 1, 2) else { return nil }
            let colon = i + 3 < b.count && b[i + 3] == UInt8(ascii: ":")
            guard let m = number(i + (colon ? 4 : 3), 2), h < 24, m < 60 else { return nil }
            offsetMinutes = sign * (h * 60 + m)
            i += colon ? 6 : 5
        }
        guard i == b.count else { return nil }
        // Days from 1970-01-01 to the civil date (Howard Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
        // Nanoseconds since 1970 hold about 292 years either way: a camera's year 1013 or 9999
        // is no time at all, not a crash.
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (utc, carry) = whole.addingReportingOverflow(fraction)
        return carry ? nil : utc
    }
}
