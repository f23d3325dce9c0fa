/// Why a camera's push was not a plate read. The listener answers it with a 4xx and counts it
/// under `kind`, so a camera misconfigured or a peer sending garbage shows in the metrics.
public struct PlateReportError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// Not the format the camera is configured for (wrong content type, no XML part).
        case unsupported
        /// The format's syntax is broken: multipart, XML or JSON.
        case malformed
        /// Past a bound: too many parts, too deep, too long a field.
        case tooLarge = "too_large"
    }

    public var kind: Kind
    public var detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue): \(detail)" }
}
