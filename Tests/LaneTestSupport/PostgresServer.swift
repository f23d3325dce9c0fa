import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL server of the tests' own, from Debian's postgresql-15: initdb into a temporary
/// directory, listening on a unix socket there and on a loopback port. PostgreSQL refuses to run
/// as root, so under root (CI) its programs run as the `postgres` user the package made. Over
/// the socket any local user is trusted; over TCP the password is checked (scram-sha-256).
/// One server serves the whole test run (each test makes databases of its own) and stops when
/// the run ends. Its programs run to their end off the cooperative pool (see ``offThePool``):
/// initdb alone takes seconds on a loaded machine.
public final class PostgresServer: Sendable {
    public static let user = "lanegate"
    public static let password = "test-password-for-the-lanegate-role"
    public let directory: String
    public let port: Int
    private let binaries: String

    /// The run's server, started on first use.
    public static func shared() async throws -> PostgresServer {
        let starting = sharedServer.withLock { task in
            if let task { return task }
            let started = Task {
                let server = try await PostgresServer()
                startedServer.withLock { $0 = server }
                atexit { PostgresServer.startedServer.withLock { $0 }?.remove() }
                return server
            }
            task = started
            return started
        }
        return try await starting.value
    }
    private static let sharedServer = Mutex<Task<PostgresServer, any Error>?>(nil)
    /// The shared server once started, for the exit handler to stop.
    private static let startedServer = Mutex<PostgresServer?>(nil)

    public init() async throws {
        guard let bin = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?
            .compactMap(Int.init).max().map({ "/usr/lib/postgresql/\($0)/bin" }) else {
            throw PostgresServerError("PostgreSQL is not installed: apt-get install postgresql-15 (.ci/install-deps does)")
        }
        binaries = bin
        var template = Array("/tmp/lgpg-XXXXXX".utf8CString)
        directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        port = try freeLoopbackPort()
        try Data(Self.password.utf8).write(to: URL(fileURLWithPath: directory + "/pw"))
        if getuid() == 0, let pw = getpwnam("postgres") {
            _ = chown(directory, pw.pointee.pw_uid, pw.pointee.pw_gid)
            _ = chown(directory + "/pw", pw.pointee.pw_uid, pw.pointee.pw_gid)
        }
        try await run("initdb", ["-D", directory + "/data", "-U", Self.user, "--pwfile", directory + "/pw", "-E", "UTF8",
                                 "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "--no-instructions"])
        try await start()
    }

    /// Starts the server (again, after ``stop(mode:)``).
    public func start() async throws {
        try await run("pg_ctl", ["-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60", "-o", options, "start"])
    }

    private var options: String { "-k \(directory) -p \(port) -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" }

    /// `immediate` is a crash as far as the server's clients can tell: no goodbye, no checkpoint.
    public func stop(mode: String = "fast") async throws {
        try await run("pg_ctl", ["-D", directory + "/data", "-w", "-m", mode, "stop"])
    }

    /// Stops the server and deletes its directory; blocking, for the exit handler and `defer`.
    public func remove() {
        _ = try? runNow("pg_ctl", ["-D", directory + "/data", "-w", "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    public func restart(mode: String) async throws {
        try await run("pg_ctl", ["-D", directory + "/data", "-l", directory + "/server.log", "-w", "-m", mode, "restart", "-o", options])
    }

    /// A new, empty database: its name.
    public func makeDatabase() async throws -> String {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await run("createdb", ["-h", directory, "-p", String(port), "-U", Self.user, name])
        return name
    }

    public func socketURL(database: String) -> String {
        "postgres://\(Self.user)@localhost:\(port)/\(database)?host=\(directory)"
    }

    /// The same database over TCP on loopback, where the password counts.
    public func tcpURL(database: String) -> String {
        "postgres://\(Self.user)@127.0.0.1:\(port)/\(database)"
    }

    /// SQL through psql over the socket, for what a test sets up or looks at behind the store.
    public func psql(_ database: String, _ sql: String) async throws -> String {
        try await run("psql", ["-h", directory, "-p", String(port), "-U", Self.user, "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
    }

    /// Runs a PostgreSQL program to its end on a thread of its own; its output.
    @discardableResult
    private func run(_ program: String, _ arguments: [String]) async throws -> String {
        try await offThePool { () throws -> String in try self.runNow(program, arguments) }
    }

    /// Runs a PostgreSQL program to its end, its output to a file. posix_spawn and waitpid, not
    /// Foundation's Process: pg_ctl leaves a server behind that inherits what Process watches.
    @discardableResult
    private func runNow(_ program: String, _ arguments: [String]) throws -> String {
        let argv = (getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + ["\(binaries)/\(program)"] + arguments
        // Output and errors apart: as user postgres, psql warns on stderr that it cannot enter
        // the caller's directory (root's), and the output is what the tests compare.
        let outputPath = directory + "/output-" + UUID().uuidString, errorPath = outputPath + ".err"
        defer { unlink(outputPath); unlink(errorPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // The server outlives pg_ctl: it must not keep copies of other tests' sockets open.
        closeInheritedDescriptors(&actions, from: 3)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for a in cArguments { free(a) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw PostgresServerError("\(argv[0]): cannot start (\(String(cString: strerror(spawned))))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let text = text + ((try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
            let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)).map { "\nserver log:\n" + $0.suffix(2000) } ?? ""
            throw PostgresServerError("\(program) \(arguments.joined(separator: " ")) failed (status \(status)): \(text)\(log)")
        }
        return text
    }
}

public struct PostgresServerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
