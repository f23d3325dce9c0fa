import Crypto
import LaneSQLite

/// The gateways the collector knows, and which bearer token belongs to which, from a file: one
/// `gateway-id token` pair per line, or a bare `gateway-id` for a gateway that identifies itself
/// by client certificate only; `#` starts a comment.
public struct GatewayTokens: Sendable {
    private var byDigest: [[UInt8]: String] = [:]
    public private(set) var known: Set<String> = []

    public init(pairs: [(gateway: String, token: String)], certificateOnly: [String] = []) {
        for (gateway, token) in pairs { byDigest[Self.digest(token)] = gateway }
        known = Set(pairs.map(\.gateway) + certificateOnly)
    }

    /// Parses the token file's text; errors name the line.
    public init(text: String, file: String) throws(CollectorSetupError) {
        var pairs: [(String, String)] = []
        var certificateOnly: [String] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty { continue }
            if words.count == 1 {
                certificateOnly.append(String(words[0]))
                continue
            }
            guard words.count == 2, words[1].count >= 16 else {
                throw CollectorSetupError("\(file):\(i + 1): expected `gateway-id [token]` with a token of at least 16 characters")
            }
            pairs.append((String(words[0]), String(words[1])))
        }
        self.init(pairs: pairs, certificateOnly: certificateOnly)
    }

    /// The gateway a token belongs to. Looked up by digest, so the comparison does not leak
    /// how much of a guessed token matched.
    public func gateway(for token: String) -> String? { byDigest[Self.digest(token)] }

    public var isEmpty: Bool { byDigest.isEmpty }

    private static func digest(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }
}

/// The collector cannot start as configured (bad token file, TLS files, database).
public struct CollectorSetupError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
