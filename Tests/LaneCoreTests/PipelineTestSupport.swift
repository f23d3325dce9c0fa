import LaneCore

/// A small lane for semantic tests: reader "rfid" (ports 1–2 → lane1/booth, port 3 → lane1/exit),
/// receiver "seals" (antenna 1 → lane1/booth), and loop card "loops" with a speed trap a → b.
func testLayout(minReads: UInt32 = 1, departAfter: Nanoseconds = .seconds(3), maxTags: Int = 1000) -> LaneLayout {
    let rfid = DeviceIndex(0), seals = DeviceIndex(1), loops = DeviceIndex(2)
    return LaneLayout(
        devices: [.init(name: "rfid", kind: .rfid), .init(name: "seals", kind: .eseal), .init(name: "loops", kind: .loops)],
        readPoints: [
            .init(name: "lane1/booth", lane: "lane1",
                  antennas: [.init(device: rfid, port: 1), .init(device: rfid, port: 2), .init(device: seals, port: 1)],
                  departAfter: departAfter, minReads: minReads),
            .init(name: "lane1/exit", lane: "lane1", antennas: [.init(device: rfid, port: 3)],
                  departAfter: .seconds(1), minReads: minReads),
        ],
        loops: [
            .init(name: "lane1/a", lane: "lane1", device: loops, line: 0, noActivityAfter: .minutes(10),
                  maxPresence: .minutes(2), maxActuationsPerMinute: 5),
            .init(name: "lane1/b", lane: "lane1", device: loops, line: 1),
        ],
        speedTraps: [.init(upstream: 0, downstream: 1, spacing: 5)],
        maxTrackedTags: maxTags)
}

let tagA = TagID(hex: "3005fb63ac1f3841ec880467")!
let tagB = TagID(hex: "e2801160600002054cc2f29a")!

func ms(_ v: Int64) -> MonotonicInstant { MonotonicInstant(nanoseconds: v * 1_000_000) }

func read(_ tag: TagID, at t: Int64, port: UInt8 = 1, rssi: Int8 = -60) -> Detection {
    Detection(time: ms(t), device: DeviceIndex(0), payload: .tag(TagRead(tag: tag, antenna: port, rssi: rssi)))
}

func sealReport(_ status: SealStatus, at t: Int64, seal: SealID = SealID(manufacturer: 0x0E1F, tag: 0xC0FFEE)) -> Detection {
    Detection(time: ms(t), device: DeviceIndex(1), payload: .seal(SealReport(
        seal: seal, status: status, eventCount: 1, eventTime: 0, rssi: -55, antenna: 1)))
}

func edge(line: UInt16, _ on: Bool, at t: Int64) -> Detection {
    Detection(time: ms(t), device: DeviceIndex(2), payload: .loop(LoopEdge(line: line, occupied: on)))
}

/// Runs detections through a pipeline; `until` ticks the clock to that time at the end
/// (nil: finish the input, so everything settles).
func run(_ detections: [Detection], layout: LaneLayout = testLayout(), until: Int64? = nil,
         pseudonymizer: TagPseudonymizer? = nil) -> (events: [LaneEvent], pipeline: LanePipeline) {
    let pipeline = LanePipeline(layout: layout, pseudonymizer: pseudonymizer)
    var events: [LaneEvent] = []
    for d in detections { pipeline.process(d, into: &events) }
    if let until { pipeline.advance(to: ms(until), into: &events) } else { pipeline.finish(into: &events) }
    return (events, pipeline)
}

extension LaneEvent {
    var arrival: TagArrival? { if case .tagArrived(let e) = self { e } else { nil } }
    var departure: TagDeparture? { if case .tagDeparted(let e) = self { e } else { nil } }
    var vehicle: VehiclePassage? { if case .vehicle(let e) = self { e } else { nil } }
    var fault: DetectorFault? { if case .detectorFault(let e) = self { e } else { nil } }
}
