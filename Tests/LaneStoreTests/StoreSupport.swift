import Foundation
import LaneCollector
import LaneCore
import LanePostgres
import LaneCollectorTestSupport
import LaneTestSupport
import LaneWire
import Logging
import Prometheus
import Testing

/// The two stores every conformance test runs against.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// A fresh store of `kind` for the length of `body`: a new SQLite file, or a new database on the
/// run's PostgreSQL server, migrated, with the store's service running.
func withStore<T: Sendable>(_ kind: StoreKind, _ body: @Sendable (any EventStore) async throws -> T) async throws -> T {
    switch kind {
    case .sqlite:
        return try await body(try SQLiteEventStore(path: temporaryDirectory() + "/events.db"))
    case .postgres:
        let server = try await PostgresServer.shared()
        let location = try PostgresLocation(url: server.socketURL(database: try await server.makeDatabase()))
        _ = try await PostgresSchema.migrate(location, logger: quietLogger)
        return try await withPostgresStore(location, body)
    }
}

/// `location`'s store, its service running while `body` runs.
func withPostgresStore<T: Sendable>(_ location: PostgresLocation, settings: PostgresEventStore.Settings = .init(),
                                    registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                                    _ body: @Sendable (PostgresEventStore) async throws -> T) async throws -> T {
    var logger = quietLogger
    if ProcessInfo.processInfo.environment["LANEGATE_TEST_STORE_LOG"] != nil {
        logger = Logger(label: "test-store") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .debug
    }
    let store = PostgresEventStore(location: location, settings: settings, registry: registry, logger: logger)
    let running = Task { try await store.run() }
    defer { running.cancel() }
    let value = try await body(store)
    running.cancel()
    _ = await running.result
    return value
}

/// A batch as the collector receives it: decoded, its body, and the body's identity (the body
/// itself serves as the digest here: equal bytes, equal digest).
struct TestBatch: Sendable {
    var decoded: DecodedBatch
    var body: [UInt8]

    init(gateway: String, sequence: UInt64, events: [LaneEvent], utcAtZero: Int64 = anchor.utcNanoseconds,
         devices: [String] = ["rfid-a", "loops"]) {
        let layout = LaneLayout(
            devices: [.init(name: devices[0], kind: .rfid), .init(name: devices[1], kind: .loops)],
            readPoints: [.init(name: "lane1/booth", lane: "lane1", antennas: [.init(device: DeviceIndex(0), port: 1)]),
                         .init(name: "lane2/booth", lane: "lane2", antennas: [.init(device: DeviceIndex(0), port: 2)])],
            loops: [.init(name: "lane1/loop-a", lane: "lane1", device: DeviceIndex(1), line: 0),
                    .init(name: "lane2/loop-a", lane: "lane2", device: DeviceIndex(1), line: 1)])
        let clock = ClockAnchor(monotonic: .zero, utcNanoseconds: utcAtZero, sync: .synchronized, maxErrorMicros: 800,
                                estimatedErrorMicros: 100)
        body = BatchEncoder(gatewayID: gateway, layout: layout)
            .encode(EventBatch(sequence: sequence, events: events, counters: nil, anchor: clock, priority: false))
        decoded = try! BatchDecoder.decode(body)
    }

    func store(in store: any EventStore, receivedUTC: Int64 = 1, backlog: Int? = nil) async throws -> StoreOutcome {
        try await store.store(decoded, body: body, bodyDigest: body, receivedUTC: receivedUTC, backlog: backlog)
    }
}

/// Second `s` after the batch's clock anchor.
func at(_ seconds: Double) -> MonotonicInstant { MonotonicInstant(nanoseconds: Int64(seconds * 1e9)) }

func tag(_ n: Int) -> TagID { TagID(hex: String(repeating: "0", count: 20) + String(format: "%04x", n))! }

func arrival(_ n: Int, at t: Double, readPoint: UInt16 = 0) -> LaneEvent {
    .tagArrived(TagArrival(readPoint: ReadPointIndex(readPoint), tag: tag(n), time: at(t), peakRSSI: -50, antennas: 1))
}

func departure(_ n: Int, from t0: Double, to t1: Double, readPoint: UInt16 = 0) -> LaneEvent {
    .tagDeparted(TagDeparture(readPoint: ReadPointIndex(readPoint), tag: tag(n), firstSeen: at(t0), lastSeen: at(t1), readCount: 7,
                              peakRSSI: -48, antennas: 1, evicted: false))
}

func vehicle(at t: Double, loop: UInt16 = 0) -> LaneEvent {
    .vehicle(VehiclePassage(loop: LoopIndex(loop), onTime: at(t - 0.4), offTime: at(t)))
}

/// Mixed events: arrivals, departures and vehicles, `count` of them from second `start` on.
func mixed(_ count: Int, start: Double = 0) -> [LaneEvent] {
    (0..<count).map { i in
        let t = start + Double(i)
        switch i % 3 {
        case 0: return arrival(i, at: t)
        case 1: return departure(i, from: t - 0.5, to: t)
        default: return vehicle(at: t)
        }
    }
}
