import Foundation
import LaneCore
import LaneWire

/// The one-lane layout the test batches are made for: a reader's booth and a loop.
public let layout = LaneLayout(
    devices: [.init(name: "rfid-a", kind: .rfid), .init(name: "loops", kind: .loops)],
    readPoints: [.init(name: "lane1/booth", lane: "lane1", antennas: [.init(device: DeviceIndex(0), port: 1)])],
    loops: [.init(name: "lane1/loop-a", lane: "lane1", device: DeviceIndex(1), line: 0)])

public let anchor = ClockAnchor(monotonic: .zero, utcNanoseconds: 1_763_900_000_000_000_000, sync: .synchronized,
                         maxErrorMicros: 800, estimatedErrorMicros: 100)

/// A compressed batch of `count` events (tag arrivals and vehicles) from `gateway`, with the
/// shipped zstd dictionary when `dictionary` is set.
public func encodedBatch(gateway: String, sequence: UInt64, count: Int = 5, priority: Bool = false,
                         dictionary: Bool = false) -> [UInt8] {
    let events: [LaneEvent] = (0..<count).map { i in
        let t = MonotonicInstant(nanoseconds: Int64(sequence) * 60_000_000_000 + Int64(i) * 1_000_000_000)
        return i % 2 == 0
            ? .tagArrived(TagArrival(readPoint: 0, tag: TagID(hex: String(format: "30%022x", i))!, time: t, peakRSSI: -55, antennas: 1))
            : .vehicle(VehiclePassage(loop: 0, onTime: t.advanced(by: -400_000_000), offTime: t))
    }
    let batch = EventBatch(sequence: sequence, events: events, counters: nil, anchor: anchor, priority: priority)
    return BatchEncoder(gatewayID: gateway, layout: layout, dictionaryUse: DictionaryUse(policy: dictionary ? .always : .never)).encode(batch)
}
