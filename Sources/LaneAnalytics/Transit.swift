/// An e-seal's report at a read point, as the collector stores it: from a `seal_seen` (the
/// seal's first report there) or a `seal_changed` (its status changed while present).
public struct SealReading: Sendable, Hashable {
    /// `MMMM-TTTTTTTT`, the seal's manufacturer and tag id in hex.
    public var seal: String
    public var place: ReadPlace
    public var utc: UTCNanoseconds
    /// The status byte (ISO 18185: bit 7 tampered, 6 low battery, 5 opened, 0 approved open).
    public var status: UInt8
    /// How many seal, open and tamper events the seal has logged.
    public var eventCount: UInt16

    public init(seal: String, place: ReadPlace, utc: UTCNanoseconds, status: UInt8, eventCount: UInt16) {
        self.seal = seal
        self.place = place
        self.utc = utc
        self.status = status
        self.eventCount = eventCount
    }

    static let tampered: UInt8 = 0x80, opened: UInt8 = 0x20, approvedOpen: UInt8 = 0x01
}

/// A pair of ports a sealed shipment travels between, and how long it should take.
public struct TransitRoute: Sendable, Hashable {
    public var from: String
    public var to: String
    public var expected: Int64

    public init(from: String, to: String, expected: Int64) {
        self.from = from
        self.to = to
        self.expected = expected
    }
}

/// A seal's stay at one port: its consecutive readings there.
public struct PortCall: Sendable, Hashable {
    public var port: String
    public var first: UTCNanoseconds
    public var last: UTCNanoseconds
    /// Status and event count at the first and at the last reading.
    public var arrivingStatus: UInt8
    public var leavingStatus: UInt8
    public var arrivingCount: UInt16
    public var leavingCount: UInt16
    public var readings: Int
}

/// A sealed shipment between two ports: seen at `origin`, then at `destination` (nil while it
/// has not arrived at any port yet).
public struct Transit: Sendable, Hashable {
    public var seal: String
    public var origin: PortCall
    public var destination: PortCall?
    /// From leaving the origin to reaching the destination, or to now while under way.
    public var elapsed: Int64
    /// The route's expected time; nil when no route between the ports is configured.
    public var expected: Int64?
    public var overdue: Bool
    /// Events the seal logged between the two ports (its counter's difference, modulo 2^16).
    public var eventsBetween: UInt16
    /// The seal was opened or tampered with between the ports: its counter moved, or it arrived
    /// with an opened or tampered flag it left without.
    public var opened: Bool
    /// Opened without an approved opening, or its tamper flag newly set.
    public var tampered: Bool
}

/// Follows seals from port to port. A pure function of the readings, so late batches correct
/// the answer the next time it is asked for.
public struct TransitTracker: Sendable {
    public let routes: [TransitRoute]
    private let portOfPlace: [ReadPlace: String]
    private let portOfGateway: [String: String]

    public init(ports: [PortLayout], routes: [TransitRoute]) {
        self.routes = routes
        var byPlace: [ReadPlace: String] = [:], byGateway: [String: String?] = [:]
        for port in ports {
            for point in port.points { byPlace[point.place] = port.id }
            for gateway in port.gateways {
                // A gateway on the routes of two ports says nothing about where a reader off those routes stands.
                byGateway[gateway] = byGateway[gateway] == nil ? port.id : .some(nil)
            }
        }
        portOfPlace = byPlace
        portOfGateway = byGateway.compactMapValues { $0 }
    }

    /// How far around a range seal readings must be read for its transits to be whole: twice
    /// the longest route (a shipment's origin, or its late arrival), at least a day, at most 31.
    public var lookback: Int64 {
        min(max(2 * (routes.map(\.expected).max() ?? 0), 86_400_000_000_000), 31 * 86_400_000_000_000)
    }

    /// The port a reading was made at: its read point's port, or else its gateway's only port.
    public func port(of place: ReadPlace) -> String? { portOfPlace[place] ?? portOfGateway[place.gateway] }

    /// The transits in `readings` at `now`, seal by seal and in time order; `unplaced` counts the
    /// readings at no known port.
    public func transits(_ readings: [SealReading], now: UTCNanoseconds) -> (transits: [Transit], unplaced: Int) {
        var bySeal: [String: [(port: String, reading: SealReading)]] = [:]
        var unplaced = 0
        for r in readings {
            guard let port = port(of: r.place) else { unplaced += 1; continue }
            bySeal[r.seal, default: []].append((port, r))
        }
        var out: [Transit] = []
        for seal in bySeal.keys.sorted() {
            let calls = Self.calls(bySeal[seal]!.sorted { ($0.reading.utc, $0.reading.eventCount) < ($1.reading.utc, $1.reading.eventCount) })
            for (a, b) in zip(calls, calls.dropFirst()) { out.append(transit(seal, from: a, to: b, now: now)) }
            // Under way: the seal's last port is a route's origin, and it did not arrive there by a route.
            let last = calls[calls.count - 1]
            let arrivedByRoute = calls.count > 1 && route(calls[calls.count - 2].port, last.port) != nil
            if !arrivedByRoute, routes.contains(where: { $0.from == last.port }) {
                out.append(transit(seal, from: last, to: nil, now: now))
            }
        }
        return (out, unplaced)
    }

    private func route(_ from: String, _ to: String) -> TransitRoute? { routes.first { $0.from == from && $0.to == to } }

    private func transit(_ seal: String, from a: PortCall, to b: PortCall?, now: UTCNanoseconds) -> Transit {
        let expected = b.map { route(a.port, $0.port)?.expected }
            ?? routes.filter { $0.from == a.port }.map(\.expected).max()
        let elapsed = (b?.first ?? max(now, a.last)) - a.last
        var eventsBetween: UInt16 = 0, opened = false, tampered = false
        if let b {
            eventsBetween = b.arrivingCount &- a.leavingCount
            let newFlags = b.arrivingStatus & ~a.leavingStatus
            opened = eventsBetween != 0 || newFlags & (SealReading.opened | SealReading.tampered) != 0
            tampered = newFlags & SealReading.tampered != 0 || (opened && b.arrivingStatus & SealReading.approvedOpen == 0)
        }
        return Transit(seal: seal, origin: a, destination: b, elapsed: elapsed, expected: expected,
                       overdue: expected.map { elapsed > $0 } ?? false, eventsBetween: eventsBetween, opened: opened, tampered: tampered)
    }

    /// Consecutive readings at one port make one call.
    private static func calls(_ readings: [(port: String, reading: SealReading)]) -> [PortCall] {
        var calls: [PortCall] = []
        for (port, r) in readings {
            if let i = calls.indices.last, calls[i].port == port {
                calls[i].last = r.utc
                calls[i].leavingStatus = r.status
                calls[i].leavingCount = r.eventCount
                calls[i].readings += 1
            } else {
                calls.append(PortCall(port: port, first: r.utc, last: r.utc, arrivingStatus: r.status, leavingStatus: r.status,
                                      arrivingCount: r.eventCount, leavingCount: r.eventCount, readings: 1))
            }
        }
        return calls
    }
}
