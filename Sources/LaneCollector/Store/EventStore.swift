import LaneAnalytics
import LaneCore
import LaneWire

/// What the collector answers for a batch it was given.
public enum StoreOutcome: Sendable, Equatable {
    /// Stored now, with this many events.
    case stored(events: Int)
    /// Already stored earlier, byte for byte: acknowledged again, nothing stored twice.
    case duplicate(events: Int)
    /// The sequence is taken by a batch with different content: refused.
    case conflict
}

/// One stored event as the query API returns it.
public struct StoredEvent: Sendable {
    public var id: Int64
    public var gateway: String
    public var sequence: UInt64
    public var utcNanoseconds: Int64
    /// When its batch reached the collector, UTC.
    public var receivedUTCNanoseconds: Int64 = 0
    /// The event's own JSON object (as `lanegate replay` prints it).
    public var json: String

    public init(id: Int64, gateway: String, sequence: UInt64, utcNanoseconds: Int64, receivedUTCNanoseconds: Int64, json: String) {
        self.id = id
        self.gateway = gateway
        self.sequence = sequence
        self.utcNanoseconds = utcNanoseconds
        self.receivedUTCNanoseconds = receivedUTCNanoseconds
        self.json = json
    }
}

public struct EventQuery: Sendable {
    public var gateway: String?
    public var lane: String?
    public var place: String?
    public var type: String?
    public var fromUTC: Int64?
    public var toUTC: Int64?
    /// Events with an id above this (a cursor for paging).
    public var after: Int64 = 0
    public var limit: Int = 1000
    /// Stop after examining this many stored events, matching or not.
    public var maxScanned: Int = 200_000

    public init() {}
}

/// What the collector knows about one gateway.
public struct GatewaySummary: Sendable {
    public var id: String
    public var lastSeenUTC: Int64
    public var lastSequence: UInt64
    public var batches: Int
    public var events: Int
    public var gapEvents: Int
    public var lostReported: UInt64
    /// The gateway's spool depth as it last said (batches waiting), when it said.
    public var backlogReported: Int?
    public var clockSync: String
    public var clockMaxErrorMicros: Int64
    /// Each device's last reported state.
    public var devices: [String: String]

    public init(id: String, lastSeenUTC: Int64, lastSequence: UInt64, batches: Int, events: Int, gapEvents: Int,
                lostReported: UInt64, backlogReported: Int?, clockSync: String, clockMaxErrorMicros: Int64,
                devices: [String: String]) {
        self.id = id
        self.lastSeenUTC = lastSeenUTC
        self.lastSequence = lastSequence
        self.batches = batches
        self.events = events
        self.gapEvents = gapEvents
        self.lostReported = lostReported
        self.backlogReported = backlogReported
        self.clockSync = clockSync
        self.clockMaxErrorMicros = clockMaxErrorMicros
        self.devices = devices
    }
}

/// A lane of a gateway, by name.
public struct GatewayLane: Sendable, Hashable {
    public var gateway: String
    public var lane: String
    public init(gateway: String, lane: String) {
        self.gateway = gateway
        self.lane = lane
    }
}

/// The store cannot be reached now (its database is down or unreachable). The collector answers
/// 503, so that gateways keep their batches spooled and send them again later.
public struct StoreUnavailableError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Where the collector keeps batches and events: SQLite embedded (``SQLiteEventStore``), or
/// PostgreSQL shared by several collectors. Reads are async so that neither blocks a request
/// thread: SQLite reads on NIO's thread pool, PostgreSQL over its connection pool.
public protocol EventStore: Sendable {
    /// Stores a verified batch (decoded, and its wire `body`) once per (gateway, sequence).
    /// `bodyDigest` identifies the exact bytes, so a repeat is told apart from a conflicting
    /// reuse of the sequence.
    func store(_ batch: DecodedBatch, body: [UInt8], bodyDigest: [UInt8], receivedUTC: Int64, backlog: Int?) async throws -> StoreOutcome
    /// Matching events in storage order, and the cursor to continue after (which moves past
    /// what was scanned even when fewer than `limit` events matched).
    func events(_ query: EventQuery) async throws -> (events: [StoredEvent], resumeAfter: Int64)
    func gateways() async throws -> [GatewaySummary]
    /// Tag visits at `gateways` whose first read lies in [fromUTC, toUTC): closed ones from
    /// `tag_departed` events, open ones from `tag_arrived` events. What the border-delay
    /// analytics work on.
    func tagVisits(gateways: [String], fromUTC: Int64, toUTC: Int64) async throws -> [TagVisit]
    /// The lanes whose loops at `gateways` reported a vehicle in [fromUTC, toUTC): a lane is the
    /// part of a loop's name before its "/" (`lane3/loop-a` is in lane `lane3`).
    func lanesWithVehicles(gateways: [String], fromUTC: Int64, toUTC: Int64) async throws -> Set<GatewayLane>
    /// Seal readings (`seal_seen`, `seal_changed`) at any gateway in [fromUTC, toUTC), of one
    /// seal (`MMMM-TTTTTTTT`) or of all: what transits between ports are followed by.
    func sealReadings(fromUTC: Int64, toUTC: Int64, seal: String?) async throws -> [SealReading]
    /// Total events stored, for metrics and tests.
    func eventCount(gateway: String?) async throws -> Int
    /// Nil when the store can take batches now; otherwise why not (what `/healthz` says).
    func unavailability() async -> String?

    /// The gateways registered in the store (`lanegate-collector gateways add`): whom every
    /// collector on the store accepts batches from, unless it is given a token file instead.
    func registeredGateways() async throws -> [GatewayCredential]
    /// Registers a gateway, or replaces its token. A token another gateway has is refused.
    func register(_ credential: GatewayCredential) async throws
    /// Removes a gateway's registration (its stored batches stay); false when it had none.
    func unregister(gateway: String) async throws -> Bool

    /// Records the alarms not recorded before (by id), and returns those: the ones to announce.
    /// For each new one, in the same transaction, a pending delivery to each webhook that
    /// `webhooks` names for its id: an alarm is never stored without its deliveries.
    func raise(_ alarms: [Alarm], webhooks: [String: [String]]) async throws -> [Alarm]
    /// Alarms raised in [fromUTC, toUTC), in the order they were raised, at most `limit`.
    func alarms(raisedFrom fromUTC: Int64, to toUTC: Int64, limit: Int) async throws -> [Alarm]
    /// One alarm by id.
    func alarm(id: String) async throws -> Alarm?
    /// Marks an alarm acknowledged by `reader`, unless it already is (the first one stays);
    /// returns it as it now stands, nil when there is no such alarm.
    func acknowledge(alarm id: String, by reader: String, atUTC: Int64) async throws -> Alarm?

    /// Takes up to `limit` of a webhook's pending deliveries due at `now`: each one's attempt is counted and it
    /// is held until `leaseUntil`. A sender that dies with it leaves it due again then (at least
    /// once), while other senders on the store skip it meanwhile.
    func claimDeliveries(webhook: String, dueAt now: Int64, leaseUntil: Int64, limit: Int) async throws -> [AlarmDelivery]
    /// Settles a claimed delivery: `.delivered`, or a failure to try again at a time, or dead.
    func settle(_ delivery: AlarmDelivery.Key, _ outcome: AlarmDelivery.Outcome) async throws
    /// Deliveries in `state`, oldest alarm first, at most `limit`: the dead letters, the queue.
    func deliveries(_ state: AlarmDelivery.State, limit: Int) async throws -> [AlarmDelivery]
    /// Puts a webhook's dead deliveries back in the queue, due at `now`; returns how many.
    func retryDeadDeliveries(webhook: String, now: Int64) async throws -> Int
}

extension EventStore {
    public func unavailability() async -> String? { nil }

    /// Records alarms that no webhook is to hear of.
    public func raise(_ alarms: [Alarm]) async throws -> [Alarm] { try await raise(alarms, webhooks: [:]) }
}

/// A registration the store refuses.
public enum GatewayRegistryError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Two gateways with one token could not be told apart.
    case tokenTaken(by: String)

    public var description: String {
        switch self {
        case .tokenTaken(let owner): "that token is already gateway \"\(owner)\"'s: give each gateway its own"
        }
    }
}
