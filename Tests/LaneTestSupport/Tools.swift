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
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
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

/// Starts `tool` with `arguments`, its standard output to `stdout` (or nowhere), its errors nowhere.
public func launchTool(_ tool: String, _ arguments: [String], stdout: String? = nil) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    if let stdout {
        _ = FileManager.default.createFile(atPath: stdout, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdout))
    } else {
        process.standardOutput = FileHandle.nullDevice
    }
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// Runs `tool` to its end with its standard output written to `stdout`.
public func runTool(_ tool: String, _ arguments: [String], stdout: String) async throws {
    try await launchTool(tool, arguments, stdout: stdout).ended()
}

extension Process {
    /// Waits for the process to end without holding one of the cooperative pool's few threads,
    /// as `waitUntilExit()` would: the other tests' tasks need them meanwhile.
    public func ended() async {
        while isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }
}
