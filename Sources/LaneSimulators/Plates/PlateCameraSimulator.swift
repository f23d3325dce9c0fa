import LaneCore

/// A licence-plate camera at a lane, as the simulator plays it: for each vehicle, what the camera
/// reads (with the mistakes real cameras make) and the body it pushes to the gateway in its
/// format. Reproducible from its generator's seed.
public struct PlateCameraSimulator: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        /// Hikvision's ISAPI ANPR event: multipart with `anpr.xml` and two pictures.
        case hikvisionISAPI = "hikvision-isapi"
        /// Plate Recognizer Stream's webhook, JSON.
        case plateRecognizerStream = "platerecognizer-stream"
        /// Rekor Scout's `alpr_group`, JSON.
        case rekorScout = "rekor-scout"
    }

    /// How often a camera gets a plate wrong, each out of 1.
    public struct Misreads: Sendable {
        /// A vehicle seen and no plate read (dirt, a tow bar, glare).
        public var missed = 0.04
        /// One character taken for its look-alike: O for 0, I for 1 (or back), which matching folds.
        public var confusable = 0.08
        /// One character taken for another that matching does not fold (B/8, S/5, Z/2, D/0).
        public var other = 0.02

        public init(missed: Double = 0.04, confusable: Double = 0.08, other: Double = 0.02) {
            self.missed = missed
            self.confusable = confusable
            self.other = other
        }
    }

    /// One vehicle as the camera saw it.
    public struct Shot: Sendable, Equatable {
        public var truth: String
        /// What the camera reports ("" when it missed the plate).
        public var reported: String
        /// 0 to 1.
        public var confidence: Double
        public var kind: Kind

        public enum Kind: String, Sendable { case exact, missed, confusable, other }

        public init(truth: String, reported: String, confidence: Double, kind: Kind) {
            self.truth = truth
            self.reported = reported
            self.confidence = confidence
            self.kind = kind
        }
    }

    public var format: Format
    public var camera: String
    public var misreads: Misreads

    public init(format: Format, camera: String, misreads: Misreads = Misreads()) {
        self.format = format
        self.camera = camera
        self.misreads = misreads
    }

    /// What the camera makes of `plate`.
    public func read(_ plate: String, using rng: inout some RandomNumberGenerator) -> Shot {
        let roll = Double.random(in: 0..<1, using: &rng)
        if roll < misreads.missed { return Shot(truth: plate, reported: "", confidence: 0, kind: .missed) }
        let swap: (table: [UInt8: UInt8], kind: Shot.Kind)?
        if roll < misreads.missed + misreads.confusable {
            swap = ([79: 48, 48: 79, 73: 49, 49: 73], .confusable)  // O 0, I 1
        } else if roll < misreads.missed + misreads.confusable + misreads.other {
            swap = ([66: 56, 56: 66, 83: 53, 53: 83, 90: 50, 50: 90, 68: 48], .other)  // B 8, S 5, Z 2, D to 0
        } else {
            swap = nil
        }
        var characters = Array(plate.utf8)
        if let swap, case let at = characters.indices.filter({ swap.table[characters[$0]] != nil }), !at.isEmpty {
            let i = at[Int.random(in: 0..<at.count, using: &rng)]
            characters[i] = swap.table[characters[i]]!
            return Shot(truth: plate, reported: String(decoding: characters, as: UTF8.self),
                        confidence: Double.random(in: 0.55..<0.85, using: &rng), kind: swap.kind)
        }
        return Shot(truth: plate, reported: plate, confidence: Double.random(in: 0.85..<0.99, using: &rng), kind: .exact)
    }

    /// The push the camera sends for `shot` taken at `utc` (UTC nanoseconds): content type and body.
    public func push(_ shot: Shot, utc: Int64, sequence: Int) -> (contentType: String, body: [UInt8]) {
        switch format {
        case .hikvisionISAPI: isapi(shot, utc: utc, sequence: sequence)
        case .plateRecognizerStream: stream(shot, utc: utc)
        case .rekorScout: rekor(shot, utc: utc, sequence: sequence)
        }
    }

    /// A stand-in JPEG (its markers and some bytes of the shot): what matters is that each
    /// picture differs and its digest can be checked.
    public static func picture(_ shot: Shot, _ which: String, sequence: Int) -> [UInt8] {
        [0xFF, 0xD8, 0xFF, 0xE0] + Array("\(which) \(shot.truth) #\(sequence)".utf8) + [0xFF, 0xD9]
    }

    private func isapi(_ shot: Shot, utc: Int64, sequence: Int) -> (String, [UInt8]) {
        let civil = CivilTime(utcNanoseconds: utc)
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">
            <ipAddress>\(camera)</ipAddress>
            <channelID>1</channelID>
            <dateTime>\(civil.isoDate)T\(civil.clock)Z</dateTime>
            <activePostCount>1</activePostCount>
            <eventType>ANPR</eventType>
            <eventState>active</eventState>
            <ANPR>
            <licensePlate>\(shot.reported.isEmpty ? "unknown" : shot.reported)</licensePlate>
            <confidenceLevel>\(Int((shot.confidence * 100).rounded()))</confidenceLevel>
            <direction>forward</direction>
            <vehicleType>vehicle</vehicleType>
            </ANPR>
            </EventNotificationAlert>
            """
        let boundary = "boundary"
        var body: [UInt8] = []
        func part(_ name: String, _ type: String, _ content: [UInt8]) {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(name)\"\r\nContent-Type: \(type)\r\n\r\n".utf8)
            body += content + Array("\r\n".utf8)
        }
        part("anpr.xml", "text/xml", Array(xml.utf8))
        part("licensePlatePicture.jpg", "image/jpeg", Self.picture(shot, "licensePlatePicture", sequence: sequence))
        part("detectionPicture.jpg", "image/jpeg", Self.picture(shot, "detectionPicture", sequence: sequence))
        body += Array("--\(boundary)--\r\n".utf8)
        return ("multipart/form-data; boundary=\(boundary)", body)
    }

    private func stream(_ shot: Shot, utc: Int64) -> (String, [UInt8]) {
        let civil = CivilTime(utcNanoseconds: utc)
        let micros = (utc % 1_000_000_000 + 1_000_000_000) % 1_000_000_000 / 1000
        let time = "\(civil.isoDate)T\(civil.clock).\(String(repeating: "0", count: 6 - String(micros).count))\(micros)Z"
        // A missed plate is no result at all: Stream sends only what it read.
        let results = shot.reported.isEmpty ? "" : """
            {"plate":\(jsonQuoted(shot.reported.lowercased())),"score":\(shot.confidence),"region":{"code":"mx","score":0.7},\
            "candidates":[{"plate":\(jsonQuoted(shot.reported.lowercased())),"score":\(shot.confidence)}],"vehicle":{"type":"Big Truck","score":0.8}}
            """
        let json = """
            {"hook":{"target":"http://gateway/plates","id":\(jsonQuoted(camera)),"event":"recognition"},\
            "data":{"camera_id":\(jsonQuoted(camera)),"timestamp":"\(time)","results":[\(results)]}}
            """
        return ("application/json", Array(json.utf8))
    }

    private func rekor(_ shot: Shot, utc: Int64, sequence: Int) -> (String, [UInt8]) {
        let json = """
            {"data_type":"alpr_group","epoch_start":\(utc / 1_000_000),"camera_id":\(jsonQuoted(camera)),"agent_uid":"booth-pc",\
            "best_plate_number":\(jsonQuoted(shot.reported)),"best_confidence":\(shot.confidence * 100),"best_region":"us-az",\
            "best_uuid":"\(camera)-\(sequence)","best_plate":{"plate":\(jsonQuoted(shot.reported)),"candidates":[]}}
            """
        return ("application/json", Array(json.utf8))
    }
}

/// Plates of the kinds that cross at the ports: Mexican (three letters, four digits, a letter)
/// and US states' (seven letters and digits).
public enum SimulatedPlates {
    public static func next(using rng: inout some RandomNumberGenerator) -> String {
        let letters = Array("ABCDEFGHJKLMNPRSTUVWXYZ".utf8), digits = Array("0123456789".utf8)
        func pick(_ from: [UInt8]) -> UInt8 { from[Int.random(in: 0..<from.count, using: &rng)] }
        let mexican = Bool.random(using: &rng)
        let pattern: [[UInt8]] = mexican ? [letters, letters, letters, digits, digits, digits, digits, letters]
            : [digits, letters, letters, letters, digits, digits, digits]
        // O and I appear on plates too (older series), so misreads have something to take.
        return String(decoding: pattern.map { set in
            let c = pick(set)
            return Int.random(in: 0..<12, using: &rng) == 0 ? (set == letters ? [UInt8(ascii: "O"), UInt8(ascii: "I")][Int(c) % 2] : c) : c
        }, as: UTF8.self)
    }
}
