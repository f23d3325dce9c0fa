import Foundation
import LaneSpool
import LaneTestSupport
import Synchronization
import Testing

/// The spool's async side runs its SQLite work on a thread of its own, never on the
/// cooperative pool, and that thread ends with the actor.
@Suite("Async spool")
struct AsyncSpoolTests {
    @Test func workRunsOnTheSpoolsOwnThreadAndInOrder() async throws {
        let spool = Spool(path: temporaryDirectory() + "/spool.db", gatewayID: "gw", nowUTC: t0)
        let desk = AsyncSpool(spool)
        let name = await desk.perform { _ in Self.threadName() }
        #expect(name == "spool", "the actor's work ran on \(name)")

        // Commits from another thread (the pipeline's) and acknowledgements from many tasks interleave safely.
        commitRoutine(spool, count: 50)
        await withTaskGroup(of: Void.self) { group in
            for sequence in UInt64(1)...50 { group.addTask { await desk.acknowledge(sequence) } }
        }
        #expect(await desk.depth == 0)
        #expect(await desk.status().batches == 0)
    }

    @Test func theThreadEndsWithTheActor() async throws {
        var thread = ""
        do {
            let desk = AsyncSpool(Spool(path: temporaryDirectory() + "/spool.db", gatewayID: "gw", nowUTC: t0))
            thread = await desk.perform { _ in Self.threadID() }
            #expect(FileManager.default.fileExists(atPath: "/proc/self/task/\(thread)"), "the thread runs while the actor lives")
        }
        var ended = false
        for _ in 0..<200 where !ended {
            ended = !FileManager.default.fileExists(atPath: "/proc/self/task/\(thread)")
            if !ended { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(ended, "the spool thread \(thread) ended once the actor was released")
    }

    private static func threadName() -> String {
        (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
    }

    /// The calling thread's id, from the link /proc/thread-self (`<pid>/task/<tid>`).
    private static func threadID() -> String {
        ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? "")
            .split(separator: "/").last.map(String.init) ?? "?"
    }
}
