import LaneCollector
import Logging
import NIOSSL
import PostgresNIO

/// Where the collector's PostgreSQL database is and how to log in, from a URL in libpq's form:
/// `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=disable|require|verify-full]`, or a unix
/// socket's directory as `?host=/run/postgresql`. The password comes from a file or the
/// environment (`PGPASSWORD`), so that it is not in the unit file or `ps`; one in the URL is
/// accepted too. No description of a location ever shows the password.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        /// Plain TCP: loopback, a unix socket, or a network the operator trusts.
        case disable
        /// TLS, without checking the server's certificate (libpq's `require`).
        case require
        /// TLS, the server's certificate checked against the system's CAs and the host name.
        case verifyFull = "verify-full"
    }

    public var user: String
    public var host: String
    public var port: Int
    /// A unix socket directory; when set, `host` and `port` only name the socket file.
    public var socketDirectory: String?
    public var database: String
    public var tls: TLSMode
    var password: String?

    /// Parses `url`; `password` (from a file or the environment) overrides one in the URL.
    public init(url: String, password: String? = nil) throws(CollectorSetupError) {
        let text = Substring(url)
        guard let schemeEnd = text.firstRange(of: "://"), ["postgres", "postgresql"].contains(text[..<schemeEnd.lowerBound]) else {
            throw CollectorSetupError("--store \(Self.redacted(url)): a PostgreSQL URL starts with postgres:// (SQLite: sqlite:PATH)")
        }
        var rest = text[schemeEnd.upperBound...]
        var parameters: [Substring: Substring] = [:]
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                parameters[kv[0]] = kv.count == 2 ? kv[1] : ""
            }
            rest = rest[..<q]
        }
        let authority = rest.firstIndex(of: "/").map { rest[..<$0] } ?? rest
        let path = rest.firstIndex(of: "/").map { rest[rest.index(after: $0)...] } ?? ""
        var hostPort = authority
        var userInfo: Substring = ""
        if let at = authority.lastIndex(of: "@") {
            userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
        }
        let userParts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        user = Self.decoded(userParts.first ?? "")
        let urlPassword = userParts.count == 2 ? Self.decoded(userParts[1]) : nil
        self.password = password ?? urlPassword
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else {
                throw CollectorSetupError("--store \(Self.redacted(url)): the port must be 1 to 65535")
            }
            port = p
            hostPort = hostPort[..<colon]
        } else {
            port = 5432
        }
        host = hostPort.isEmpty ? "localhost" : String(hostPort.trimmingPrefix("[").dropLast(hostPort.hasSuffix("]") ? 1 : 0))
        socketDirectory = parameters["host"].map { Self.decoded($0) }
        database = Self.decoded(path)
        let mode = parameters["sslmode"].map(String.init) ?? (socketDirectory != nil || ["localhost", "127.0.0.1", "::1"].contains(host) ? "disable" : "verify-full")
        guard let tls = TLSMode(rawValue: mode) else {
            throw CollectorSetupError("--store \(Self.redacted(url)): sslmode must be disable, require or verify-full, not \"\(mode)\"")
        }
        self.tls = tls
        guard !user.isEmpty else { throw CollectorSetupError("--store \(Self.redacted(url)): name the user (postgres://USER@HOST/DATABASE)") }
        guard !database.isEmpty else { throw CollectorSetupError("--store \(Self.redacted(url)): name the database (postgres://USER@HOST/DATABASE)") }
        if let unknown = parameters.keys.first(where: { !["host", "sslmode"].contains($0) }) {
            throw CollectorSetupError("--store \(Self.redacted(url)): unknown parameter \"\(unknown)\" (host and sslmode are understood)")
        }
    }

    /// The location without its password, for logs and errors.
    public var description: String {
        let tail = socketDirectory.map { "?host=\($0)" } ?? (tls == .disable ? "" : "?sslmode=\(tls.rawValue)")
        return "postgres://\(user)@\(socketDirectory == nil ? "\(host):\(port)" : "")/\(database)\(tail)"
    }

    /// PostgresNIO's configuration for a pool of at most `connections`.
    func clientConfiguration(connections: Int) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let directory = socketDirectory {
            configuration = .init(unixSocketPath: "\(directory)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            let mode: PostgresClient.Configuration.TLS
            switch tls {
            case .disable: mode = .disable
            case .require:
                tlsConfiguration.certificateVerification = .none
                mode = .require(tlsConfiguration)
            case .verifyFull: mode = .require(tlsConfiguration)
            }
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: mode)
        }
        configuration.options.maximumConnections = connections
        configuration.options.minimumConnections = 1
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// PostgresNIO's configuration for one connection (migrations and the start-up check).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let directory = socketDirectory {
            configuration = .init(unixSocketPath: "\(directory)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            if tls == .require { tlsConfiguration.certificateVerification = .none }
            let mode: PostgresConnection.Configuration.TLS = tls == .disable ? .disable : .require(try NIOSSLContext(configuration: tlsConfiguration))
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: mode)
        }
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// A password in a URL can hide in a log line or an error; this shows `***` instead.
    static func redacted(_ url: String) -> String {
        guard let scheme = url.firstRange(of: "://"), let at = url[scheme.upperBound...].lastIndex(of: "@") else { return url }
        let userInfo = url[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    private static func decoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var i = text.utf8.startIndex
        let utf8 = text.utf8
        while i < utf8.endIndex {
            if utf8[i] == UInt8(ascii: "%"), let h = utf8.index(i, offsetBy: 2, limitedBy: utf8.index(before: utf8.endIndex)),
               let value = UInt8(String(text[utf8.index(after: i)...h]), radix: 16) {
                bytes.append(value)
                i = utf8.index(after: h)
            } else {
                bytes.append(utf8[i])
                i = utf8.index(after: i)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// What a PostgreSQL error says, with the server's own message when it sent one. PSQLError's
/// description is kept vague on purpose (it could hold query data); the server's message and
/// SQLSTATE are what an operator needs.
func explain(_ error: any Error) -> String {
    if let transaction = error as? PostgresTransactionError, let cause = transaction.cause { return explain(cause) }
    guard let psql = error as? PSQLError else { return "\(error)" }
    if let message = psql.serverInfo?[.message] {
        let state = psql.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
        return message + state
    }
    if psql.code == .authMechanismRequiresPassword {
        return "the server asks for a password, and none was given (--store-password-file, or PGPASSWORD)"
    }
    if let underlying = psql.underlying { return "\(psql.code): \(underlying)" }
    return "\(psql.code)"
}

/// Whether `error` means the database cannot be reached or is going away (worth a 503 and a
/// retry), rather than a statement it refused.
func isUnavailability(_ error: any Error) -> Bool {
    if error is StoreUnavailableError { return true }
    if let transaction = error as? PostgresTransactionError, let cause = transaction.cause { return isUnavailability(cause) }
    guard let psql = error as? PSQLError else { return false }
    switch psql.code {
    case .server:
        // 08: connection exception; 57P: operator intervention (shutdown, cannot connect now);
        // 53: insufficient resources; 40: transaction rollback (serialization, deadlock).
        let state = psql.serverInfo?[.sqlState] ?? ""
        return ["08", "57", "53", "40"].contains(String(state.prefix(2)))
    default: return true
    }
}

extension PostgresTransactionError {
    /// What went wrong first: beginning, the work inside, or committing.
    var cause: (any Error)? { beginError ?? closureError ?? commitError }
}
