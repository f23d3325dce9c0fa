/// A gateway's id as `[gateway] id` names it, and as its batches, its token's registration and
/// its client certificate repeat it: one rule, so that the collector never accepts an id no
/// gateway could have.
public enum GatewayID {
    public static let rule = "1 to 64 letters, digits, '-', '_' or '.'"

    public static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
    }
}
