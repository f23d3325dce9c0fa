import LaneCore
import LaneTOML

/// Who may read the collector's data, and what: one `reader-name token [scope]` per line, apart
/// from the gateways' tokens. The token may be written as `sha256:<hex>` of the token, so the
/// file need not hold the secret itself; either way only digests are kept in memory. The
/// reader's name goes into the access log. `#` starts a comment.
///
/// The scope says what the reader sees:
/// - `public`: the wait-time feed (`/v1/feed/…`) only;
/// - `ports=bota-nb,pharr-nb`: an agency: those ports' figures, and the events and state of the
///   gateways on their routes;
/// - `admin`: everything. A line without a scope is `admin`, as every reader was before scopes.
public struct ReadTokens: Sendable {
    private var byDigest: [[UInt8]: Reader] = [:]

    public init(pairs: [(reader: String, token: String)]) {
        for (reader, token) in pairs { byDigest[Self.digest(token)] = Reader(name: reader, scope: .admin) }
    }

    public init(readers: [(reader: Reader, token: String)]) {
        for (reader, token) in readers { byDigest[Self.digest(token)] = reader }
    }

    /// Parses the file's text; errors name the file and line.
    public init(text: String, file: String) throws(CollectorSetupError) {
        for (i, raw) in text.textLines.enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty { continue }
            let where_ = "\(file):\(i + 1)"
            guard words.count == 2 || words.count == 3 else {
                throw CollectorSetupError("\(where_): expected `reader-name token [scope]` or `reader-name sha256:<hex> [scope]`")
            }
            let secret = words[1]
            guard let scope = words.count == 3 ? ReadScope(String(words[2])) : .admin else {
                throw CollectorSetupError("\(where_): the scope must be `public`, `admin` or `ports=PORT[,PORT…]`, got `\(words[2])`")
            }
            let reader = Reader(name: String(words[0]), scope: scope)
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
    public func reader(for token: String) -> Reader? { byDigest[Self.digest(token)] }

    /// Every port some reader is granted: the collector checks them against its port file.
    public var grantedPorts: Set<String> {
        Set(byDigest.values.flatMap { reader -> Set<String> in
            if case .ports(let ports) = reader.scope { return ports }
            return []
        })
    }

    static func digest(_ token: String) -> [UInt8] { Digest.sha256(Array(token.utf8)) }

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

/// A holder of a read token.
public struct Reader: Sendable, Hashable {
    public var name: String
    public var scope: ReadScope

    public init(name: String, scope: ReadScope) {
        self.name = name
        self.scope = scope
    }
}

/// What a reader may see.
public enum ReadScope: Sendable, Hashable {
    /// The public wait-time feed only.
    case `public`
    /// An agency: these ports, and the gateways on their routes.
    case ports(Set<String>)
    /// Everything.
    case admin

    /// Parses `public`, `admin` or `ports=a,b`.
    public init?(_ text: String) {
        switch text {
        case "public": self = .public
        case "admin": self = .admin
        default:
            guard text.hasPrefix("ports=") else { return nil }
            let ports = text.dropFirst("ports=".count).split(separator: ",").map(String.init)
            guard !ports.isEmpty, ports.allSatisfy({ !$0.isEmpty }) else { return nil }
            self = .ports(Set(ports))
        }
    }
}

/// Who may read: holders of a read token, or, for a demo on loopback only, anyone.
public enum ReadAccess: Sendable {
    case tokens(ReadTokens)
    case publicRead
}
