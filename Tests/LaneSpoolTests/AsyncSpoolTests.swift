import Foundation
import LaneSpool
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
        let before = Self.threads()
        do {
            let desk = AsyncSpool(Spool(path: temporaryDirectory() + "/spool.db", gatewayID: "gw", nowUTC: t0))
            #expect(await desk.depth == 0)
            #expect(Self.threads() == before + 1, "one thread while the actor lives")
        }
        var ended = false
        for _ in 0..<200 where !ended {
            ended = Self.threads() == before
            if !ended { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(ended, "the spool thread ended once the actor was released")
    }

    private static func threadName() -> String {
        (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
    }

    /// This process's threads named `spool`.
    private static func threads() -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter { task in
            (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) == "spool"
        }.count
    }
}
