import Foundation
#if canImport(Glibc)
import Glibc
import LaneTestSupport
#endif

/// The QEMU guest of the hardware-in-the-loop test (built by Tests/HIL/build-guest.sh): Debian's
/// kernel with two emulated FTDI adapters on xHCI whose bytes come out of host sockets, a gpio-sim
/// chip, a virtual spool disk that outlives the machine, user networking to the host's loopback,
/// QMP for plugging, and a command channel to the guest's /init on its second serial port.
final class GuestMachine: @unchecked Sendable {
    static let rfidSerial = "RFID0001"
    static let esealSerial = "ESEAL001"

    let directory: String
    private let artifacts: String
    private var qemu: Process?
    private var agent: LineChannel?

    var rfidSocket: String { directory + "/rfid.sock" }
    var esealSocket: String { directory + "/eseal.sock" }
    var consoleLog: String { directory + "/console.log" }
    private var qemuLog: String { directory + "/qemu.log" }
    private var agentSocket: String { directory + "/agent.sock" }
    private var qmpSocket: String { directory + "/qmp.sock" }
    private var spoolDisk: String { directory + "/spool.img" }

    /// A machine with a blank spool disk of its own.
    init(artifacts: String, directory: String) throws {
        self.artifacts = artifacts
        self.directory = directory
        try FileManager.default.copyItem(atPath: artifacts + "/spool.img", toPath: spoolDisk)
        _ = FileManager.default.createFile(atPath: consoleLog, contents: nil)
    }

    deinit { qemu?.terminate() }

    /// Powers the machine on; the daemon in it will deliver to `collectorURL` (as the guest sees
    /// the host's loopback: 10.0.2.2) with `token`. Returns once the guest answers commands.
    func boot(collectorPort: Int, token: String) async throws {
        for socket in [rfidSocket, esealSocket, agentSocket, qmpSocket] { unlink(socket) }
        let cmdline = "console=ttyS0 quiet panic=-1 lanegate.collector=http://10.0.2.2:\(collectorPort)/v1/batches lanegate.token=\(token)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-system-x86_64")
        process.arguments = [
            "-accel", "tcg", "-m", "1024", "-display", "none", "-monitor", "none", "-no-reboot",
            "-chardev", "file,id=console,path=\(consoleLog),append=on", "-serial", "chardev:console",
            "-chardev", "socket,id=agent,path=\(agentSocket),server=on,wait=off", "-serial", "chardev:agent",
            "-kernel", artifacts + "/vmlinuz", "-initrd", artifacts + "/initrd.gz", "-append", cmdline,
            "-device", "qemu-xhci,id=xhci",
            "-chardev", "socket,id=rfid0,path=\(rfidSocket),server=on,wait=off",
            "-device", Self.readerDevice,
            "-chardev", "socket,id=eseal0,path=\(esealSocket),server=on,wait=off",
            "-device", "usb-serial,id=eseal,bus=xhci.0,chardev=eseal0,always-plugged=on,serial=\(Self.esealSerial)",
            "-drive", "file=\(spoolDisk),if=virtio,format=raw",
            "-nic", "user,model=e1000",
            "-qmp", "unix:\(qmpSocket),server=on,wait=off",
        ]
        _ = FileManager.default.createFile(atPath: qemuLog, contents: nil)
        let messages = FileHandle(forWritingAtPath: qemuLog)!
        process.standardOutput = messages
        process.standardError = messages
        process.standardInput = FileHandle.nullDevice
        try process.run()
        qemu = process
        agent = try await LineChannel.connect(path: agentSocket, timeout: 20)
        // /init reads the line once it has started the daemon; what was sent before that may be
        // lost or cut. Ask until an answer comes, then mark the line and skip to the mark.
        let deadline = Date().addingTimeInterval(120)
        var attempt = 0
        while Date() < deadline {
            guard process.isRunning else {
                let messages = (try? String(contentsOfFile: qemuLog, encoding: .utf8)) ?? ""
                throw GuestError("QEMU exited during boot: \(messages)\n\(console(tail: 40))")
            }
            attempt += 1
            try agent!.send("echo up")
            guard (try? await agent!.answer(timeout: 2)) != nil else { continue }
            try agent!.send("echo mark-\(attempt)")
            while try await agent!.answer(timeout: 10).output != "mark-\(attempt)" {}
            return
        }
        throw GuestError("the guest did not come up in 120 s:\n\(console(tail: 40))")
    }

    static let readerDevice = "usb-serial,id=rfid,bus=xhci.0,chardev=rfid0,always-plugged=on,serial=\(rfidSerial)"

    /// Runs a shell command as root in the guest: its exit status and output.
    func run(_ command: String, timeout: Double = 60) async throws -> (status: Int, output: String) {
        guard let agent else { throw GuestError("the guest is not running") }
        try agent.send(command)
        let answer = try await agent.answer(timeout: timeout)
        return (answer.status, answer.output)
    }

    /// One QMP command (JSON) on a fresh connection; returns the reply line.
    func qmp(_ command: String) async throws -> String {
        let channel = try await LineChannel.connect(path: qmpSocket, timeout: 10)
        _ = try await channel.line(timeout: 10)  // greeting
        try channel.send(#"{"execute":"qmp_capabilities"}"#)
        _ = try await channel.line(timeout: 10)
        try channel.send(command)
        while true {
            let line = try await channel.line(timeout: 20)
            if line.contains("\"return\"") || line.contains("\"error\"") { return line }
        }
    }

    /// Cuts the power: QEMU is killed outright, with whatever the guest had in flight.
    func powerCut() {
        guard let qemu else { return }
        kill(qemu.processIdentifier, SIGKILL)
        qemu.waitUntilExit()
        self.qemu = nil
        agent = nil
    }

    func shutdown() { powerCut() }

    func console(tail lines: Int) -> String {
        let text = (try? String(contentsOfFile: consoleLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

struct GuestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Lines over a unix stream socket, read without blocking the test's threads (the cooperative
/// pool is small and the collector runs on it).
final class LineChannel: @unchecked Sendable {
    private let fd: Int32
    private var pending: [UInt8] = []

    private init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    static func connect(path: String, timeout: Double) async throws -> LineChannel {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if result == 0 {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                return LineChannel(fd: fd)
            }
            close(fd)
            guard Date() < deadline else { throw GuestError("cannot connect to \(path)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func send(_ line: String) throws {
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { usleep(1000); continue }
            guard n > 0 else { throw GuestError("the channel closed while sending") }
            offset += n
        }
    }

    /// The next line, without its newline.
    func line(timeout: Double) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeSubrange(...end)
                return line.hasSuffix("\r") ? String(line.dropLast()) : line
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { pending += buffer.prefix(n); continue }
            if n == 0 { throw GuestError("the channel closed") }
            guard Date() < deadline else { throw GuestError("no line within \(timeout) s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The guest agent's answer to one command: "| output" lines, then "= status".
    func answer(timeout: Double) async throws -> (status: Int, output: String) {
        var output: [String] = []
        while true {
            let line = try await self.line(timeout: timeout)
            if line.hasPrefix("| ") { output.append(String(line.dropFirst(2))) } else if line.hasPrefix("|") { output.append("") } else if line.hasPrefix("= "), let status = Int(line.dropFirst(2)) {
                return (status, output.joined(separator: "\n"))
            }
        }
    }
}
