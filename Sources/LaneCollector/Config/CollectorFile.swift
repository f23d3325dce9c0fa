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

    public var store = Store()

    public init(store: Store = Store()) { self.store = store }

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
        checkKeys(root, path: "", allowed: ["store"])
        var settings = CollectorFile()
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
}
