import Benchmark
import Foundation
import LaneAnalytics
import LaneCollector
import LaneCore
import LaneSimulators
import LaneWire

/// A busy port's day: about 50 000 trips (56 000 vehicles, every one tagged, 90 % read rate per
/// point), the size the border-delay targets are stated for.
let busyPort = PortDay(seed: 11, port: "busy", laneTypes: [
    .init(name: "general", booths: 12, vehiclesPerDay: 28_000, service: 55, tagged: 1.0),
    .init(name: "ready", booths: 7, vehiclesPerDay: 18_000, service: 28, tagged: 1.0),
    .init(name: "sentri", booths: 3, vehiclesPerDay: 10_000, service: 22, tagged: 1.0),
])

func layout(of day: PortDay) -> PortLayout {
    PortLayout(id: day.port, name: day.port, direction: "northbound", points: day.points.map {
        PortPoint(place: ReadPlace(gateway: $0.gateway, readPoint: $0.readPoint), stage: Stage(name: $0.stage)!,
                  laneType: $0.laneType, lane: $0.lane)
    })
}

/// The day's tag departures, stored as its three gateways would deliver them: in 5-second
/// batches (the default window), into the collector's SQLite store.
func storeDay(_ day: PortDay, visits: [PortDay.Visit], at path: String) async throws -> SQLiteEventStore {
    let store = try SQLiteEventStore(path: path)
    try await storeDay(day, visits: visits, into: store)
    return store
}

func storeDay(_ day: PortDay, visits: [PortDay.Visit], into store: any EventStore) async throws {
    let anchor = ClockAnchor(monotonic: .zero, utcNanoseconds: day.midnight, sync: .synchronized, maxErrorMicros: 800, estimatedErrorMicros: 100)
    for gateway in [day.queueGateway, day.boothGateway, day.exitGateway] {
        let names = day.points.filter { $0.gateway == gateway }.map(\.readPoint)
        let lanes = LaneLayout(devices: [.init(name: "rfid", kind: .rfid)], readPoints: names.enumerated().map { i, name in
            .init(name: name, lane: String(name.split(separator: "/").first!), antennas: [.init(device: DeviceIndex(0), port: UInt8(i % 200 + 1))])
        })
        let encoder = BatchEncoder(gatewayID: gateway, layout: lanes)
        let windows = Dictionary(grouping: visits.filter { $0.gateway == gateway }) { ($0.last - day.midnight) / 5_000_000_000 }
        for (sequence, key) in windows.keys.sorted().enumerated() {
            let events: [LaneEvent] = windows[key]!.sorted { $0.last < $1.last }.map { v in
                .tagDeparted(TagDeparture(readPoint: ReadPointIndex(names.firstIndex(of: v.readPoint)!), tag: TagID(hex: v.tag)!,
                                          firstSeen: MonotonicInstant(nanoseconds: v.first - day.midnight),
                                          lastSeen: MonotonicInstant(nanoseconds: v.last - day.midnight),
                                          readCount: v.reads, peakRSSI: v.peakRSSI, antennas: 1, evicted: false))
            }
            let body = encoder.encode(EventBatch(sequence: UInt64(sequence + 1), events: events, counters: nil, anchor: anchor, priority: false))
            let batch = try BatchDecoder.decode(body)
            _ = try await store.store(batch, body: body, bodyDigest: [UInt8](repeating: 0, count: 32), receivedUTC: day.midnight, backlog: nil)
        }
    }
}

func borderDelayBenchmarks() {
    nonisolated(unsafe) var visits: [TagVisit] = []
    nonisolated(unsafe) var analytics: PortAnalytics?
    let port = layout(of: busyPort)
    let hour: Int64 = 3_600_000_000_000
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .peakMemoryResident], timeUnits: .milliseconds, maxDuration: .seconds(30), maxIterations: 10,
        setup: {
            guard analytics == nil else { return }
            let (_, simulated) = busyPort.run()
            visits = simulated.map {
                TagVisit(tag: $0.tag, place: ReadPlace(gateway: $0.gateway, readPoint: $0.readPoint), first: $0.first, last: $0.last,
                         reads: $0.reads, peakRSSI: $0.peakRSSI)
            }
            let directory = NSTemporaryDirectory() + "lanegate-bench-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let store = try await storeDay(busyPort, visits: simulated, at: directory + "/events.db")
            analytics = PortAnalytics(ports: [port], store: store)
        })

    // The day's trips, filtered, in 15-minute bins with the guidebook's measures: from visits in memory.
    Benchmark("border delay: a 50k-trip day recomputed from its visits", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            let trips = TripFilter(bounds: port.bounds).filter(TripMatcher(layout: port).trips(from: TagVisit.merged(visits)).trips)
            blackHole(DelayStatistics.bins(trips, .wait, width: 900_000_000_000, from: busyPort.midnight, to: busyPort.midnight + 24 * hour))
            blackHole(DelayStatistics.measures(trips, .wait, bounds: port.bounds, from: busyPort.midnight, to: busyPort.midnight + 24 * hour))
        }
    }
    // The same as the API does it: the day's visit rows read from SQLite, then matched.
    storeBenchmarks("SQLite", port: port, configuration: configuration) { analytics }
    postgresBorderDelayBenchmarks(port: port)
}

/// The API's two store-bound computations against one store: the day recomputed, and what a
/// dashboard's live stream computes when a batch is stored.
func storeBenchmarks(_ store: String, port: PortLayout, configuration: Benchmark.Configuration,
                     analytics: @escaping @Sendable () -> PortAnalytics?) {
    let hour: Int64 = 3_600_000_000_000
    Benchmark("border delay: a 50k-trip day recomputed from the \(store) store", configuration: configuration) { benchmark async throws in
        for _ in benchmark.scaledIterations {
            blackHole(try await analytics()!.statistics(port, .wait, width: 900_000_000_000, from: busyPort.midnight, to: busyPort.midnight + 24 * hour))
        }
    }
    Benchmark("border delay: the live estimate at 17:00 from the \(store) store", configuration: configuration) { benchmark async throws in
        for _ in benchmark.scaledIterations {
            blackHole(try await analytics()!.live(port, at: busyPort.midnight + 17 * hour))
        }
    }
}
