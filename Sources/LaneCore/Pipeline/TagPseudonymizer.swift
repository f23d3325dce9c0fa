/// Replaces tag ids by a keyed hash before anything leaves the pipeline, so raw EPCs (personal
/// data) never leave the box while matching across read points still works: one site key shared
/// by the gateways of a port gives the same pseudonym for the same tag everywhere.
///
/// Pseudonym = the first 16 bytes of HMAC-SHA256(key, EPC bytes).
public struct TagPseudonymizer: Sendable {
    public static let pseudonymLength = 16
    private let key: [UInt8]

    /// `keyBytes` must hold at least 16 bytes (128 bits) of secret.
    public init?(keyBytes: some Collection<UInt8>) {
        guard keyBytes.count >= 16 else { return nil }
        key = Array(keyBytes)
    }

    public func pseudonym(for tag: TagID) -> TagID {
        TagID(bytes: Digest.hmacSHA256(key: key, tag.bytes).prefix(Self.pseudonymLength))!
    }

    /// A plate's pseudonym under the same site key, made from its matching key (so an O read as
    /// a 0 gives the same one), in a domain of its own: no plate's pseudonym is a tag's.
    public func pseudonym(forPlate plate: PlateText) -> [UInt8] {
        Array(Digest.hmacSHA256(key: key, Array("plate\u{0}\(plate.matchingKey)".utf8)).prefix(Self.pseudonymLength))
    }
}
