#if canImport(Glibc)
import Glibc
#endif
import CLaneSystem

/// A plain POSIX thread for a blocking loop (a device driver, a simulator): blocking I/O
/// belongs on a thread of its own, never on the cooperative pool that async code shares.
public final class DedicatedThread: Sendable {
    private let handle: pthread_t

    /// Starts `body` at once on a new thread named `name` (the first 15 bytes show in `top -H`).
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Body {
            lanegate_name_this_thread(name)
            body()
        })
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
            body.run()
            return nil
        }, box.toOpaque())
        precondition(status == 0, "pthread_create failed: \(status)")
        handle = thread
    }

    /// Waits for the thread to finish. Call once, and not together with ``detach()``.
    public func join() {
        pthread_join(handle, nil)
    }

    /// Lets the thread's resources go when it ends, for a thread nobody will join.
    public func detach() {
        pthread_detach(handle)
    }

    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
}
