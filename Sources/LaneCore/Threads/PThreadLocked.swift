#if canImport(Glibc)
import Glibc
#endif

/// A value behind a pthread mutex: what `Synchronization.Mutex` does, except that
/// ThreadSanitizer on Linux can see this lock (the Synchronization library is not instrumented,
/// so every `Mutex` shared by two threads reads as a race there). For state that a dedicated
/// thread and async code share, and that the sanitizer run should check.
public final class PThreadLocked<Value>: @unchecked Sendable {
    // Guarded by `mutex`, which must not move: it lives on the heap, owned by this object.
    private var value: Value
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
