import Foundation
import LaneCore
import LaneWire

let layout = LaneLayout(
    devices: [.init(name: "rfid-a", kind: .rfid), .init(name: "seal-rx", kind: .eseal), .init(name: "loops", kind: .loops)],
    readPoints: [.init(name: "lane1/booth", lane: "lane1", antennas: [.init(device: DeviceIndex(0), port: 1)]),
                 .init(name: "lane1/exit", lane: "lane1", antennas: [.init(device: DeviceIndex(0), port: 2)])],
    loops: [.init(name: "lane1/loop-a", lane: "lane1", device: DeviceIndex(2), line: 0),
            .init(name: "lane1/loop-b", lane: "lane1", device: DeviceIndex(2), line: 1)])

func us(_ v: Int64) -> MonotonicInstant { MonotonicInstant(nanoseconds: v * 1000) }

/// One of every event kind, at millisecond-aligned times (the default wire unit).
let sampleEvents: [LaneEvent] = {
    let tag = TagID(hex: "3005fb63ac1f3841ec880467")!
    let seal = SealID(manufacturer: 0x0E1F, tag: 0x00C0FFEE)
    return [
        .tagArrived(TagArrival(readPoint: 0, tag: tag, time: us(1_000_000), peakRSSI: -61, antennas: 0b110)),
        .sealSeen(SealSighting(readPoint: 0, seal: seal, time: us(1_001_000), status: .sealed, eventCount: 1, eventTime: 1_763_900_000, rssi: -70)),
        .vehicle(VehiclePassage(loop: 1, onTime: us(1_200_000), offTime: us(2_100_000), speed: 8.25, length: 5.62)),
        .vehicle(VehiclePassage(loop: 0, onTime: us(1_100_000), offTime: us(2_000_000))),
        .sealChanged(SealChange(readPoint: 0, seal: seal, time: us(3_000_000), previous: .sealed, status: [.tampered, .opened], eventCount: 2, eventTime: 1_763_900_100)),
        .tagDeparted(TagDeparture(readPoint: 0, tag: tag, firstSeen: us(1_000_000), lastSeen: us(4_000_000), readCount: 120, peakRSSI: -48, antennas: 0b110, evicted: false)),
        .sealDeparted(SealDeparture(readPoint: 0, seal: seal, firstSeen: us(1_001_000), lastSeen: us(4_500_000), reportCount: 4, status: [.tampered, .opened], evicted: true)),
        .detectorFault(DetectorFault(loop: 0, kind: .maxPresence, raised: true, time: us(5_000_000))),
        .deviceStatus(DeviceStatusChange(device: DeviceIndex(1), state: .lost, detail: "no heartbeat for 3 s", time: us(5_100_000))),
        .gap(Gap(time: us(5_200_000), reason: .ringOverflow, device: DeviceIndex(0), lost: 17)),
        .gap(Gap(time: us(5_201_000), reason: .spoolFull, device: nil, lost: 3)),
    ]
}()

let sampleBatch: EventBatch = {
    var counters = PipelineCounters()
    counters.detections = 1234
    counters.tagReads = 1200
    counters.ringDrops = 17
    return EventBatch(sequence: 42, events: sampleEvents, counters: counters,
                      anchor: ClockAnchor(monotonic: us(1_000_000), utcNanoseconds: 1_763_900_000_000_000_000,
                                          sync: .synchronized, maxErrorMicros: 1500, estimatedErrorMicros: 200),
                      priority: true)
}()

let encoder = BatchEncoder(gatewayID: "pharr-gw-01", layout: layout, bootID: "5b2c0e0c-7f7a-4e55-9a4d-3f1f0a6c2b11")

/// A file next to this source, under Golden/.
func goldenPath(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)").path
}
