import Foundation
import LaneCore
import LaneSpool
import LaneTestSupport
import LaneWire

let minute: Int64 = 60_000_000_000
let t0: Int64 = 1_763_900_000_000_000_000

/// A batch with `events` events and a body of `size` bytes that compress poorly, as real
/// compressed batches do.
func batch(_ sequence: UInt64, events: Int = 10, size: Int = 200, priority: Bool = false, at time: Int64 = t0) -> SpooledBatch {
    var generator = SystemRandomNumberGenerator()
    let body = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
    return SpooledBatch(sequence: sequence, priority: priority, events: events, createdUTC: time, body: body)
}

/// Commits `count` routine batches from the spool's next sequence on.
func commitRoutine(_ spool: Spool, count: Int, size: Int = 200, at time: Int64 = t0) {
    for _ in 0..<count { spool.commit(batch(spool.nextSequence, size: size, at: time)) }
}

let canMount: Bool = {
    guard let directory = mountTinyFilesystem(kilobytes: 64) else { return false }
    unmount(directory)
    return true
}()

func arrival(_ ms: Int64, _ hex: String) -> LaneEvent {
    .tagArrived(TagArrival(readPoint: 0, tag: TagID(hex: hex)!, time: MonotonicInstant(nanoseconds: ms * 1_000_000),
                           peakRSSI: -60, antennas: 1))
}

import LaneSQLite

/// Direct access to a spool file, for tests that damage it on purpose.
enum LaneSQLiteTestAccess {
    static func open(_ path: String) throws -> SQLiteConnection { try SQLiteConnection(path: path, create: false) }
}
