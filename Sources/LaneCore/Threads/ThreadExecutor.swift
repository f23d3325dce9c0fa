#if canImport(Glibc)
import Glibc
#endif

/// A serial executor whose jobs all run on one dedicated thread. An actor that owns blocking
/// work (SQLite, fsync) sets it as its executor: callers simply `await`, and the blocking
/// happens here, never on the cooperative pool that async code shares.
///
/// The thread ends once ``shutdown()`` was called and no job is left; the owning actor calls it
/// from its `deinit`, when nothing can enqueue any more.
public final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    // Guarded by `mutex`; pthread objects must not move, so they live on the heap.
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// Starts the thread at once, named `name` for `top -H`.
    public init(name: String) {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        jobs.reserveCapacity(16)
        // The thread keeps the executor alive until it ends; nobody joins it.
        DedicatedThread(name: name) { [self] in loop() }.detach()
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        pthread_mutex_lock(mutex)
        jobs.append(unowned)
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Lets the thread end once its queue is empty.
    public func shutdown() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    private func loop() {
        let executor = asUnownedSerialExecutor()
        var running: [UnownedJob] = []
        running.reserveCapacity(16)
        while true {
            pthread_mutex_lock(mutex)
            while jobs.isEmpty && !stopping { pthread_cond_wait(condition, mutex) }
            if jobs.isEmpty {
                pthread_mutex_unlock(mutex)
                return
            }
            swap(&jobs, &running)
            pthread_mutex_unlock(mutex)
            for job in running { job.runSynchronously(on: executor) }
            running.removeAll(keepingCapacity: true)
        }
    }
}
