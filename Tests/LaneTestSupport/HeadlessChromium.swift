import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Debian's Chromium, headless, driven over the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`: it reads commands on its fd 3 and writes answers and events on its
/// fd 4, each a JSON text ended by a NUL byte). Calls block: use it off the cooperative pool.
public final class HeadlessChromium: @unchecked Sendable {
    public static let path = "/usr/bin/chromium"
    private let pid: pid_t
    private let commands: Int32
    private let answers: Int32
    private var nextID = 0
    private var pending: [UInt8] = []
    private let profile = temporaryDirectory()

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(windowWidth: Int = 1280, windowHeight: Int = 900) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.path) else {
            throw Failure(description: "\(Self.path) is missing: .ci/install-deps installs Debian's chromium")
        }
        var toBrowser: [Int32] = [0, 0], fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw Failure(description: "pipe: \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toBrowser[0], 3)
        posix_spawn_file_actions_adddup2(&actions, fromBrowser[1], 4)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // The browser gets its two pipes and nothing else the test process has open.
        closeInheritedDescriptors(&actions, from: 5)
        let arguments = [Self.path, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-pipe",
                         "--user-data-dir=\(profile)", "--window-size=\(windowWidth),\(windowHeight)", "about:blank"]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, Self.path, &actions, nil, &argv, environ)
        close(toBrowser[0])
        close(fromBrowser[1])
        guard spawned == 0 else { throw Failure(description: "posix_spawn \(Self.path): \(spawned)") }
        pid = child
        commands = toBrowser[1]
        answers = fromBrowser[0]
    }

    deinit {
        _ = try? call("Browser.close")
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(commands)
        close(answers)
        try? FileManager.default.removeItem(atPath: profile)
    }

    /// Sends a command and waits for its answer's `result` (events in between are skipped).
    @discardableResult
    public func call(_ method: String, _ params: [String: Any] = [:], session: String? = nil, timeout: Double = 30) throws -> [String: Any] {
        nextID += 1
        var message: [String: Any] = ["id": nextID, "method": method, "params": params]
        if let session { message["sessionId"] = session }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        guard bytes.withUnsafeBytes({ write(commands, $0.baseAddress, $0.count) }) == bytes.count else {
            throw Failure(description: "\(method): the browser's command pipe is closed")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let text = try nextMessage(until: deadline, method: method)
            guard let answer = try JSONSerialization.jsonObject(with: Data(text)) as? [String: Any],
                  answer["id"] as? Int == nextID else { continue }
            if let error = answer["error"] { throw Failure(description: "\(method): \(error)") }
            return answer["result"] as? [String: Any] ?? [:]
        }
    }

    private func nextMessage(until deadline: Date, method: String) throws -> [UInt8] {
        while true {
            if let end = pending.firstIndex(of: 0) {
                let text = Array(pending[..<end])
                pending.removeSubrange(...end)
                return text
            }
            let left = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            var pfd = pollfd(fd: answers, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, left) > 0 else { throw Failure(description: "\(method): no answer from the browser in time") }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            let n = read(answers, &buffer, buffer.count)
            guard n > 0 else { throw Failure(description: "\(method): the browser closed its pipe") }
            pending += buffer[..<n]
        }
    }

    /// Opens `url` in a new page; returns the page's session.
    public func open(_ url: String) throws -> String {
        let target = try call("Target.createTarget", ["url": url])["targetId"] as? String ?? ""
        let session = try call("Target.attachToTarget", ["targetId": target, "flatten": true])["sessionId"] as? String ?? ""
        try call("Runtime.enable", session: session)
        return session
    }

    /// The value of a JavaScript expression in the page (awaited when it is a promise).
    public func evaluate(_ expression: String, session: String) throws -> Any? {
        let result = try call("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true], session: session)
        if let exception = result["exceptionDetails"] { throw Failure(description: "\(expression): \(exception)") }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Polls `expression` until it is true; false when `seconds` pass first.
    public func waitUntil(_ expression: String, session: String, seconds: Double = 30) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try evaluate(expression, session: session) as? Bool == true { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    /// A PNG of the page as it is shown, at `width` × `height` CSS pixels.
    public func screenshot(session: String, width: Int, height: Int, mobile: Bool = false) throws -> Data {
        try call("Emulation.setDeviceMetricsOverride", ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile], session: session)
        let data = try call("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true], session: session)["data"] as? String ?? ""
        return Data(base64Encoded: data) ?? Data()
    }
}
