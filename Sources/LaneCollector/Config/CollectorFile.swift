import LaneTOML
import TOMLKit

/// The collector's settings file (TOML), given with `--config`. Its `[store]` table says where
/// batches are kept, so that `serve`, `migrate` and `gateways` on one host, and every collector
/// of a border, read the same store from one file instead of repeating the URL on each
/// command line. Options on the command line win over the file.
///
///     [store]
///     url = "postgres://lanegate@db.border.example/lanegate?sslmode=verify-full"
///     password_file = "/etc/lanegate-collector/db-password"
///     retention_days = 400
///
/// The password itself never goes in this file: a file of its own (mode 0600) or `PGPASSWORD`.
/// Nor do webhook secrets: each `[[webhook]]` names the file that holds its secret.
///
///     [[webhook]]
///     name = "sonora-c5"
///     url = "https://c5.sonora.example/lanegate/alarms"
///     secret_file = "/etc/lanegate-collector/webhook-sonora-c5.secret"
///     ports = ["nogales-nb"]          # omitted: every alarm
///     kinds = ["seal_tampered"]       # omitted: every kind
///     ca_file = "/etc/ssl/sonora-ca.pem"   # besides the system's CAs
///     max_attempts = 12
public struct CollectorFile: Sendable, Equatable {
    public struct Store: Sendable, Equatable {
        /// `sqlite:PATH`, or `postgres://USER@HOST[:PORT]/DATABASE[?…]`.
        public var url: String?
        public var passwordFile: String?
        public var retentionDays: Int?

        public init(url: String? = nil, passwordFile: String? = nil, retentionDays: Int? = nil) {
            self.url = url
            self.passwordFile = passwordFile
            self.retentionDays = retentionDays
        }
    }

    /// A `[[webhook]]` table, its secret still in its file.
    public struct WebhookEntry: Sendable, Equatable {
        public var name: String
        public var url: String
        public var secretFile: String
        public var ports: [String]?
        public var kinds: Set<Alarm.Kind>?
        public var caFile: String?
        public var maxAttempts: Int

        public init(name: String, url: String, secretFile: String, ports: [String]? = nil, kinds: Set<Alarm.Kind>? = nil,
                    caFile: String? = nil, maxAttempts: Int = 12) {
            self.name = name
            self.url = url
            self.secretFile = secretFile
            self.ports = ports
            self.kinds = kinds
            self.caFile = caFile
            self.maxAttempts = maxAttempts
        }

        /// The webhook, with `secret` read from its file.
        public func webhook(secret: [UInt8]) -> Webhook {
            Webhook(name: name, url: url, secret: secret, scope: ports.map { .ports(Set($0)) } ?? .admin, kinds: kinds, caFile: caFile,
                    maxAttempts: maxAttempts)
        }
    }

    public var store = Store()
    public var webhooks: [WebhookEntry] = []

    public init(store: Store = Store(), webhooks: [WebhookEntry] = []) {
        self.store = store
        self.webhooks = webhooks
    }

    /// Every problem in `text`, each with its line, or the settings.
    public static func parse(_ text: String, file: String) throws -> CollectorFile {
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw ConfigError(file: file, line: error.source.begin.line, key: nil, message: "not valid TOML: \(error.description)")
        }
        var reader = CollectorFileReader(file: file, locator: TOMLKeyLocator(text: text))
        let settings = reader.read(root)
        guard reader.errors.isEmpty else { throw ConfigErrors(errors: reader.errors) }
        return settings
    }

    /// Whether `url` names a PostgreSQL database (else it is SQLite's `sqlite:PATH`).
    public static func isPostgres(_ url: String) -> Bool {
        url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")
    }
}

private struct CollectorFileReader: TOMLFieldReader {
    let file: String
    let locator: TOMLKeyLocator
    var errors: [ConfigError] = []

    init(file: String, locator: TOMLKeyLocator) {
        self.file = file
        self.locator = locator
    }

    mutating func read(_ root: TOMLTable) -> CollectorFile {
        checkKeys(root, path: "", allowed: ["store", "webhook"])
        var settings = CollectorFile()
        settings.webhooks = webhooks(root)
        guard let table = table(root, "store", path: "store", required: false) else { return settings }
        let allowed: Set = ["url", "password_file", "retention_days"]
        for key in table.keys where !allowed.contains(key) {
            fail("store.\(key)", key == "password"
                 ? "a password does not go in this file: put it in a file of its own (mode 0600) named by password_file, or in PGPASSWORD"
                 : "unknown key; allowed here: \(allowed.sorted().joined(separator: ", "))")
        }
        let url = string(table, "url", path: "store.url")
        if let url {
            if CollectorFile.isPostgres(url) {
                settings.store.url = url
            } else if url.hasPrefix("sqlite:"), url.count > "sqlite:".count {
                settings.store.url = url
            } else {
                fail("store.url", "must be sqlite:PATH or postgres://USER@HOST/DATABASE")
            }
        }
        settings.store.passwordFile = string(table, "password_file", path: "store.password_file", required: false)
        settings.store.retentionDays = integer(table, "retention_days", path: "store.retention_days", in: 1...36_600)
        if let url, !CollectorFile.isPostgres(url) {
            if settings.store.passwordFile != nil { fail("store.password_file", "applies to a PostgreSQL store (url = \"postgres://…\")") }
            if settings.store.retentionDays != nil { fail("store.retention_days", "applies to a PostgreSQL store (url = \"postgres://…\")") }
        }
        return settings
    }

    mutating func webhooks(_ root: TOMLTable) -> [CollectorFile.WebhookEntry] {
        var out: [CollectorFile.WebhookEntry] = []
        for (i, t) in tables(root, "webhook", path: "webhook").enumerated() {
            let path = "webhook[\(i)]"
            checkKeys(t, path: path, allowed: ["name", "url", "secret", "secret_file", "ports", "kinds", "ca_file", "max_attempts", "allow_plain_http"])
            if t["secret"] != nil { fail("\(path).secret", "a secret does not go in this file: put it in a file of its own (mode 0600) named by secret_file") }
            let secretFile = string(t, "secret_file", path: "\(path).secret_file")
            guard let name = string(t, "name", path: "\(path).name"), let url = string(t, "url", path: "\(path).url") else { continue }
            if name.isEmpty || name.contains(where: { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }) {
                fail("\(path).name", "letters, digits, '-', '_' and '.' only: it names the webhook in URLs and metrics")
            }
            if out.contains(where: { $0.name == name }) { fail("\(path).name", "another webhook is named \"\(name)\"") }
            let plain = bool(t, "allow_plain_http", path: "\(path).allow_plain_http") ?? false
            let lower = url.lowercased()
            if !(lower.hasPrefix("https://") || (plain && lower.hasPrefix("http://"))) {
                fail("\(path).url", plain ? "must be an http:// or https:// URL" : "must be an https:// URL (plain http needs allow_plain_http = true)")
            }
            let ports = t["ports"] == nil ? nil : stringOrStrings(t, "ports", path: "\(path).ports")
            var kinds: Set<Alarm.Kind>?
            if t["kinds"] != nil, let names = stringOrStrings(t, "kinds", path: "\(path).kinds") {
                kinds = []
                for kind in names {
                    guard let k = Alarm.Kind(rawValue: kind) else {
                        fail("\(path).kinds", "\"\(kind)\" is no alarm kind; the kinds: \(Alarm.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                        continue
                    }
                    kinds?.insert(k)
                }
            }
            let caFile = string(t, "ca_file", path: "\(path).ca_file", required: false)
            let maxAttempts = integer(t, "max_attempts", path: "\(path).max_attempts", in: 1...1000) ?? 12
            guard let secretFile else { continue }
            out.append(CollectorFile.WebhookEntry(name: name, url: url, secretFile: secretFile, ports: ports, kinds: kinds, caFile: caFile,
                                                  maxAttempts: maxAttempts))
        }
        return out
    }
}
