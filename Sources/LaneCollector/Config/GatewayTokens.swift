import LaneCore
import LaneSQLite
import LaneTOML

/// A gateway the collector accepts batches from, and the SHA-256 of its bearer token; nil for a
/// gateway that identifies itself by client certificate only. Only the digest is kept anywhere.
public struct GatewayCredential: Sendable, Hashable {
    public var gateway: String
    public var tokenDigest: [UInt8]?

    public init(gateway: String, tokenDigest: [UInt8]?) {
        self.gateway = gateway
        self.tokenDigest = tokenDigest
    }

    public init(gateway: String, token: String) { self.init(gateway: gateway, tokenDigest: GatewayTokens.digest(token)) }
}

/// The gateways the collector knows, and which bearer token belongs to which: from a file (one
/// `gateway-id token` pair per line, or a bare `gateway-id` for a gateway that identifies itself
/// by client certificate only; `#` starts a comment), or from the store's registry.
public struct GatewayTokens: Sendable {
    private var byDigest: [[UInt8]: String] = [:]
    public private(set) var known: Set<String> = []
    public let credentials: [GatewayCredential]

    public init(credentials: [GatewayCredential]) {
        self.credentials = credentials
        for credential in credentials {
            if let digest = credential.tokenDigest { byDigest[digest] = credential.gateway }
            known.insert(credential.gateway)
        }
    }

    public init(pairs: [(gateway: String, token: String)], certificateOnly: [String] = []) {
        self.init(credentials: pairs.map { GatewayCredential(gateway: $0.gateway, token: $0.token) }
                  + certificateOnly.map { GatewayCredential(gateway: $0, tokenDigest: nil) })
    }

    /// Parses the token file's text; errors name the line.
    public init(text: String, file: String) throws(CollectorSetupError) {
        var pairs: [(String, String)] = []
        var certificateOnly: [String] = []
        for (i, raw) in text.textLines.enumerated() {
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

    public static func digest(_ token: String) -> [UInt8] { Digest.sha256(Array(token.utf8)) }
}

/// The collector cannot start as configured (bad token file, TLS files, database).
public struct CollectorSetupError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
