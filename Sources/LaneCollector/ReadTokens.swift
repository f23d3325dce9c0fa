import Crypto

/// Who may read the collector's data (`/v1/events`, `/v1/gateways`): one `reader-name token` pair
/// per line, apart from the gateways' tokens. The token may be written as `sha256:<hex>` of the
/// token, so the file need not hold the secret itself; either way only digests are kept in
/// memory. The reader's name goes into the access log. `#` starts a comment.
public struct ReadTokens: Sendable {
    private var byDigest: [[UInt8]: String] = [:]

    public init(pairs: [(reader: String, token: String)]) {
        for (reader, token) in pairs { byDigest[Self.digest(token)] = reader }
    }

    /// Parses the file's text; errors name the file and line.
    public init(text: String, file: String) throws(CollectorSetupError) {
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty { continue }
            let where_ = "\(file):\(i + 1)"
            guard words.count == 2 else { throw CollectorSetupError("\(where_): expected `reader-name token` or `reader-name sha256:<hex>`") }
            let reader = String(words[0]), secret = words[1]
            if secret.hasPrefix("sha256:") {
                guard let digest = Self.hex(secret.dropFirst("sha256:".count)), digest.count == 32 else {
                    throw CollectorSetupError("\(where_): sha256: must be followed by 64 hex digits")
                }
                byDigest[digest] = reader
            } else {
                guard secret.count >= 16 else { throw CollectorSetupError("\(where_): a read token needs at least 16 characters") }
                byDigest[Self.digest(String(secret))] = reader
            }
        }
        guard !byDigest.isEmpty else { throw CollectorSetupError("\(file): no reader is named") }
    }

    /// The reader a token belongs to, looked up by digest.
    public func reader(for token: String) -> String? { byDigest[Self.digest(token)] }

    static func digest(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    private static func hex(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let high = nibble(digits[i]), let low = nibble(digits[i + 1]) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Who may read: holders of a read token, or, for a demo on loopback only, anyone.
public enum ReadAccess: Sendable {
    case tokens(ReadTokens)
    case publicRead
}
