import Foundation

/// Runs `body` with its synchronous stretches on a thread of its own, still inside the calling
/// test's task: `#expect` and `#require` are attributed to that test, as they would not be from
/// a bare thread. For test work that holds its thread for seconds (tmpfs filled to the last
/// byte, a program waited for, a port's day simulated): on the cooperative pool of a 2-core
/// machine, two such pieces take every thread the in-process collectors and stores of the
/// other tests need.
public func onItsOwnThread<T: Sendable, E: Error>(_ body: () async throws(E) -> T) async throws(E) -> T {
    let executor = ThreadExecutor()
    defer { executor.stop() }
    return try await withTaskExecutorPreference(executor) { () async throws(E) -> T in try await body() }
}

/// A task executor of one thread, which runs the jobs given to it in order until stopped.
final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var jobs: [UnownedJob] = []
    private var stopped = false

    init() {
        let thread = Thread { [self] in serve() }
        thread.stackSize = 8 << 20
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the jobs queued so far have run.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func serve() {
        // Named for whoever reads a backtrace or `top -H`.
        try? Data("test-own-thread".utf8).write(to: URL(fileURLWithPath: "/proc/thread-self/comm"))
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
