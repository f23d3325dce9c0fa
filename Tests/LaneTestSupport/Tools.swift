import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The repository's root, and the debug build of each tool (`swift build --build-tests` makes them).
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
public let lanegateTool = repositoryRoot.appendingPathComponent(".build/debug/lanegate").path
public let collectorTool = repositoryRoot.appendingPathComponent(".build/debug/lanegate-collector").path

/// Something else on the collector's port: it answers every request 503, or accepts and never
/// answers at all.
public final class Impostor: @unchecked Sendable {
    public let hangs: Bool
    private let listener: Int32
    private let stopped = NSLock()
    private var isStopped = false
    private var thread: Thread?

    public init?(port: UInt16, hangs: Bool) {
        self.hangs = hangs
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else { close(listener); return nil }
        let fd = listener
        thread = Thread { [self] in
            var held: [Int32] = []
            while true {
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&pfd, 1, 50) <= 0 {
                    if stopped.withLock({ isStopped }) { break }
                    continue
                }
                let client = accept(fd, nil, nil)
                guard client >= 0 else { break }
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                if hangs { held.append(client); continue }
                var buffer = [UInt8](repeating: 0, count: 65536)
                _ = recv(client, &buffer, buffer.count, 0)
                let answer = Array("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
                _ = answer.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                close(client)
            }
            for client in held { close(client) }
            close(fd)
        }
        thread?.start()
    }

    /// Stops and waits until the port is free for the real collector again.
    public func stop() {
        stopped.withLock { isStopped = true }
        for _ in 0..<100 where !(thread?.isFinished ?? true) { Thread.sleep(forTimeInterval: 0.02) }
    }
}

/// A child's output kept in a file. Unlike a pipe, a file never fills up and stalls the child,
/// and reading it never waits for the child (or a sibling that inherited the pipe) to close it.
public struct CapturedOutput: Sendable {
    public let path: String

    /// A new, empty file in a fresh temporary directory.
    public init() {
        path = temporaryDirectory() + "/output"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
    }

    public init(path: String) {
        self.path = path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
    }

    /// What the child has written so far.
    public var text: String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    var handle: FileHandle { get throws { try FileHandle(forWritingTo: URL(fileURLWithPath: path)) } }
}

/// Starts `tool` with `arguments`, its standard output to `stdout` (or nowhere) and its errors
/// to `stderr` (or nowhere).
public func launchTool(_ tool: String, _ arguments: [String], stdout: String? = nil, stderr: CapturedOutput? = nil,
                       environment: [String: String]? = nil) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    if let environment { process.environment = environment }
    process.standardOutput = try stdout.map { try CapturedOutput(path: $0).handle } ?? FileHandle.nullDevice
    process.standardError = try stderr?.handle ?? FileHandle.nullDevice
    try process.run()
    return process
}

/// Runs `tool` to its end with its standard output written to `stdout`.
public func runTool(_ tool: String, _ arguments: [String], stdout: String) async throws {
    let process = try launchTool(tool, arguments, stdout: stdout)
    guard await process.ended() else { throw ToolError("\(tool) \(arguments.joined(separator: " ")) did not end") }
}

public struct ToolError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// `tool arguments…` to its end: exit status, standard output and standard error.
public func runToolCapturing(_ tool: String, _ arguments: [String], within limit: Duration = .seconds(120))
    async throws -> (status: Int32, output: String, errors: String) {
    let output = CapturedOutput(), errors = CapturedOutput()
    let process = try launchTool(tool, arguments, stdout: output.path, stderr: errors)
    let ended = await process.ended(within: limit)
    return (ended ? process.terminationStatus : -1, output.text, errors.text + (ended ? "" : "\n(killed: still running after \(limit))"))
}

extension Process {
    /// Waits for the process to end without holding one of the cooperative pool's few threads,
    /// as `waitUntilExit()` would: the other tests' tasks need them meanwhile. A process still
    /// running after `limit` is killed, so that a hung tool fails its test instead of hanging
    /// the whole run; the answer says whether it ended by itself.
    @discardableResult
    public func ended(within limit: Duration = .seconds(180)) async -> Bool {
        if await eventually(within: limit, { !isRunning }) { return true }
        FileHandle.standardError.write(Data("test: killing \(executableURL?.lastPathComponent ?? "?") \(arguments ?? []), still running after \(limit)\n".utf8))
        kill(processIdentifier, SIGKILL)
        while isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        return false
    }
}
