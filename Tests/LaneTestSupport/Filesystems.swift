import Foundation

/// Mounts a tmpfs of `kilobytes` at a new directory (needs root, as CI has); nil when refused.
public func mountTinyFilesystem(kilobytes: Int) -> String? {
    let directory = temporaryDirectory()
    return runQuietly("/bin/mount", ["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", directory]) ? directory : nil
}

/// Remounts `directory` with `options` (`ro`, `rw`, `size=4m`); whether it worked.
public func remount(_ directory: String, options: String) -> Bool {
    runQuietly("/bin/mount", ["-o", "remount,\(options)", directory])
}

public func unmount(_ directory: String) { _ = runQuietly("/bin/umount", ["-l", directory]) }

/// Runs `tool` to its end with its errors discarded; whether it exited 0. For short system
/// tools (mount): it blocks its thread while they run.
@discardableResult
public func runQuietly(_ tool: String, _ arguments: [String]) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}
