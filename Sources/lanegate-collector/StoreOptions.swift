import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import LaneCollector
import LanePostgres
import LaneTOML
import Logging
import Prometheus
import ServiceLifecycle

/// Where the collector stores batches: SQLite embedded (the default), or PostgreSQL shared by
/// several collectors. From the options, else from the settings file's `[store]` table.
struct StoreOptions: ParsableArguments {
    @Option(help: "The collector's settings file (TOML). Its [store] table: url (sqlite:PATH or postgres://…), password_file, retention_days; the options below win over it.")
    var config: String?
    @Option(help: "The store: sqlite:PATH, or postgres://USER@HOST[:PORT]/DATABASE[?sslmode=…|?host=/socket/dir] for several collectors on one PostgreSQL.")
    var store: String?
    @Option(help: "The SQLite database file (created when missing); the same as --store sqlite:PATH.")
    var database: String?
    @Option(help: "A file holding the PostgreSQL password (else the PGPASSWORD environment variable, else none).")
    var storePasswordFile: String?
    @Option(help: "PostgreSQL: drop days of batches older than this many days (whole partitions). Default: keep everything.")
    var retentionDays: Int?

    func validate() throws {
        guard store == nil || database == nil else { throw ValidationError("--store and --database name the same thing: give one") }
        if let days = retentionDays, !(1...36_600).contains(days) { throw ValidationError("--retention-days must be 1 to 36600") }
        let settings = try resolved()
        if settings.retentionDays != nil, postgresURL(settings) == nil {
            throw ValidationError("--retention-days applies to a PostgreSQL store (--store postgres://…)")
        }
    }

    /// The store's settings: each option given, else the settings file's value. A store named
    /// on the command line replaces the file's whole table: its password file and retention
    /// belong to the file's store, not to this one.
    func resolved() throws -> CollectorFile.Store {
        var settings = CollectorFile.Store()
        if let file = try settingsFile(), store == nil, database == nil { settings = file.store }
        if let store { settings.url = store } else if let database { settings.url = "sqlite:" + database }
        if let storePasswordFile { settings.passwordFile = storePasswordFile }
        if let retentionDays { settings.retentionDays = retentionDays }
        return settings
    }

    /// The settings file, parsed; nil without `--config`.
    func settingsFile() throws -> CollectorFile? {
        guard let config else { return nil }
        do { return try CollectorFile.parse(try Serve.read(config, "--config"), file: config) } catch let errors as ConfigErrors {
            throw CollectorSetupError(errors.description)
        } catch let error as ConfigError {
            throw CollectorSetupError(error.description)
        }
    }

    private func postgresURL(_ settings: CollectorFile.Store) -> String? {
        settings.url.flatMap { CollectorFile.isPostgres($0) ? $0 : nil }
    }

    /// The PostgreSQL location, its password read from the file or the environment.
    func postgresLocation() throws -> PostgresLocation? { try postgresLocation(resolved()) }

    private func postgresLocation(_ settings: CollectorFile.Store) throws -> PostgresLocation? {
        guard let url = postgresURL(settings) else { return nil }
        var password: String?
        if let file = settings.passwordFile {
            password = try Serve.read(file, storePasswordFile != nil ? "--store-password-file" : "password_file").firstLineTrimmed
        } else if let fromEnvironment = getenv("PGPASSWORD") {
            password = String(cString: fromEnvironment)
        }
        return try PostgresLocation(url: url, password: password)
    }

    /// Opens the store. PostgreSQL's schema is checked first: a collector does not serve on a
    /// database it has not been migrated to, or one a newer collector migrated.
    func open(logger: Logger, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry())
        async throws -> (store: any EventStore, service: (any Service)?) {
        let resolved = try resolved()
        if let location = try postgresLocation(resolved) {
            try await PostgresSchema.check(location, logger: logger)
            var settings = PostgresEventStore.Settings()
            settings.retentionDays = resolved.retentionDays
            let store = PostgresEventStore(location: location, settings: settings, registry: registry, logger: logger)
            logger.info("store: \(location)")
            return (store, store)
        }
        let path: String
        switch resolved.url {
        case .none: path = "/var/lib/lanegate-collector/events.db"
        case .some(let s) where s.hasPrefix("sqlite:"): path = String(s.dropFirst("sqlite:".count))
        case .some(let s): throw CollectorSetupError("--store \(s): use sqlite:PATH or postgres://USER@HOST/DATABASE")
        }
        // Root opening the service's database would leave root-owned WAL files behind that the
        // service, running as its own user, then cannot write.
        var owner = stat()
        if getuid() == 0, stat(path, &owner) == 0, owner.st_uid != 0 {
            let name = getpwuid(owner.st_uid).map { String(cString: $0.pointee.pw_name) } ?? String(owner.st_uid)
            throw CollectorSetupError("\(path) belongs to \(name): run this as that user (sudo -u \(name) lanegate-collector …), not as root")
        }
        return (try SQLiteEventStore(path: path), nil)
    }
}

extension StoreOptions {
    /// Runs `body` with the store open and its service (PostgreSQL's pool) running: for the
    /// commands that read or change the store once and end.
    func withStore<T: Sendable>(logger: Logger, _ body: @Sendable (any EventStore) async throws -> T) async throws -> T {
        let (store, service) = try await open(logger: logger)
        guard let service else { return try await body(store) }
        let running = Task { try await service.run() }
        defer { running.cancel() }
        return try await body(store)
    }
}

/// `lanegate-collector migrate`: brings a PostgreSQL database to the schema this collector uses.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or upgrade the collector's tables in a PostgreSQL database (safe to run again, and from several hosts at once).")

    @OptionGroup var store: StoreOptions

    func run() async throws {
        guard let location = try store.postgresLocation() else {
            throw ValidationError("migrate needs --store postgres://…; a SQLite store sets itself up when it opens")
        }
        let (from, to) = try await PostgresSchema.migrate(location, logger: Logger(label: "lanegate.collector.migrate"))
        print(from == to ? "\(location): schema is at version \(to), nothing to do" : "\(location): schema migrated from version \(from) to \(to)")
    }
}
