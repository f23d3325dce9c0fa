import LaneCore

/// Something responders must hear of at once. Its id is made from what happened and when, so
/// the same incident found twice (a batch sent again, a sweep after a restart, two collectors
/// on one database) is one alarm, and a subscriber can drop a repeat by id.
public struct Alarm: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A seal reported tampered, or opened without an approved opening, or arrived at a port
        /// with its event counter moved since the last one.
        case sealTampered = "seal_tampered"
        /// A sealed shipment took longer than its route's expected time.
        case transitOverdue = "transit_overdue"
        /// A gateway sent nothing for longer than the configured time.
        case gatewaySilent = "gateway_silent"
        /// A loop detector reported a fault (no activity, stuck on, chatter).
        case detectorFault = "detector_fault"
    }

    public var id: String
    public var kind: Kind
    public var gateway: String
    /// The ports it concerns: who may see it. Empty for a gateway on no port's route (admin only).
    public var ports: [String]
    /// When it happened (UTC nanoseconds), and when the collector raised it.
    public var utc: Int64
    public var raisedUTC: Int64
    public var detail: String
    public var acknowledgedBy: String?
    public var acknowledgedUTC: Int64?

    public init(id: String, kind: Kind, gateway: String, ports: [String], utc: Int64, raisedUTC: Int64, detail: String,
                acknowledgedBy: String? = nil, acknowledgedUTC: Int64? = nil) {
        self.id = id
        self.kind = kind
        self.gateway = gateway
        self.ports = ports
        self.utc = utc
        self.raisedUTC = raisedUTC
        self.detail = detail
        self.acknowledgedBy = acknowledgedBy
        self.acknowledgedUTC = acknowledgedUTC
    }

    /// The id of the incident `key` names (what happened, where, when): the first 16 bytes of
    /// its SHA-256 in hex, fixed in length and safe in a URL.
    public static func id(_ key: String) -> String {
        Digest.sha256(Array(key.utf8)).prefix(16).lowercaseHex
    }

    public var json: String {
        "{\"id\":\(jsonQuoted(id)),\"kind\":\"\(kind.rawValue)\",\"gateway\":\(jsonQuoted(gateway)),"
            + "\"ports\":[\(ports.map(jsonQuoted).joined(separator: ","))],\"utc_ns\":\(utc),\"raised_utc_ns\":\(raisedUTC),"
            + "\"detail\":\(jsonQuoted(detail)),\"acknowledged_by\":\(acknowledgedBy.map(jsonQuoted) ?? "null"),"
            + "\"acknowledged_utc_ns\":\(acknowledgedUTC.map { "\($0)" } ?? "null")}"
    }
}
