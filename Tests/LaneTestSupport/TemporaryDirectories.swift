import Foundation
import Synchronization

/// Every directory the run made, removed when the test process exits: a run makes about a
/// hundred (stores, spools, certificates), and a machine that runs the suite daily would otherwise
/// fill its /tmp. `LANEGATE_KEEP_TEST_FILES=1` keeps them for a look after a failure.
private let madeDirectories = Mutex<[String]>([])
private let removalAtExit: Void = {
    guard ProcessInfo.processInfo.environment["LANEGATE_KEEP_TEST_FILES"] == nil else { return }
    atexit {
        for path in madeDirectories.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
    }
}()

/// A new directory under the system's temporary directory, named `prefix-UUID`, removed at exit.
public func temporaryDirectory(_ prefix: String = "lanegate-collector") -> String {
    _ = removalAtExit
    let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    madeDirectories.withLock { $0.append(path) }
    return path
}
