import Foundation
import LaneCore
import LaneTestSupport
@testable import LaneDevices
import Testing

/// `"FF 00 03 1D 0C"` → bytes.
func hex(_ text: String) -> [UInt8] {
    let digits = text.filter { $0.isHexDigit }
    var out: [UInt8] = []
    var i = digits.startIndex
    while i < digits.endIndex {
        let j = digits.index(i, offsetBy: 2)
        out.append(UInt8(digits[i..<j], radix: 16)!)
        i = j
    }
    return out
}

/// One driver under supervision, with its ring drained into `detections` as they come.
final class DriverHarness: @unchecked Sendable {
    let board = DeviceStatusBoard(devices: 1)
    let supervisor: DeviceSupervisor
    let ring = SPSCRing<Detection>(capacity: 4096)
    let counters: DeviceCounters
    private var consumer: RingConsumer<Detection>
    private(set) var detections: [Detection] = []
    private(set) var changes: [DeviceStatusChange] = []

    init(_ driver: some DeviceDriver, backoff: Backoff = Backoff(initial: .milliseconds(100), cap: .milliseconds(400))) {
        supervisor = DeviceSupervisor(board: board, backoff: backoff)
        consumer = RingConsumer(ring)
        counters = supervisor.start(driver, index: DeviceIndex(0), name: "device-under-test", ring: ring)
    }

    deinit { supervisor.stop() }

    func drain() {
        while let detection = consumer.pop() { detections.append(detection) }
        changes += board.takeChanges()
    }

    var tagReads: [TagRead] {
        detections.compactMap { if case .tag(let read) = $0.payload { read } else { nil } }
    }

    var sealReports: [SealReport] {
        detections.compactMap { if case .seal(let report) = $0.payload { report } else { nil } }
    }

    var states: [DeviceState] { changes.map(\.state) }

    /// Polls until `condition` holds, draining as it goes; false after `seconds`. Sleeps with
    /// `Task.sleep`, never blocking one of the few threads the async tests share.
    @discardableResult
    func wait(seconds: Double = 10, _ condition: (DriverHarness) -> Bool) async -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            drain()
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        drain()
        return condition(self)
    }

    func stop() { supervisor.stop() }
}

func epc(_ i: Int) -> TagID {
    TagID(bytes: [0x30, 0x14, 0x2D, 0x1A, 0x80, 0x5C, 0x40, 0x00, 0x00, 0x00, UInt8(i >> 8), UInt8(i & 0xFF)])!
}
