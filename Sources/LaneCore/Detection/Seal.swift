/// An ISO 18185 e-seal's identity: manufacturer id and tag id, fixed at manufacture.
public struct SealID: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var manufacturer: UInt16
    public var tag: UInt32

    @inlinable
    public init(manufacturer: UInt16, tag: UInt32) {
        self.manufacturer = manufacturer
        self.tag = tag
    }

    /// `MMMM-TTTTTTTT`, hexadecimal: the form traces and JSON output use.
    public var description: String {
        hexDigits(UInt64(manufacturer), width: 4) + "-" + hexDigits(UInt64(tag), width: 8)
    }

    /// Parses ``description``'s form.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 8,
              let m = UInt16(parts[0], radix: 16), let t = UInt32(parts[1], radix: 16)
        else { return nil }
        self.init(manufacturer: m, tag: t)
    }
}

/// The seal's status byte, as the seal reports it.
public struct SealStatus: OptionSet, Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Opened by an authorised reader: not a tamper.
    public static let approvedOpen = SealStatus(rawValue: 0x01)
    public static let opened = SealStatus(rawValue: 0x20)
    public static let lowBattery = SealStatus(rawValue: 0x40)
    /// Latched until the seal is re-set.
    public static let tampered = SealStatus(rawValue: 0x80)

    public static let sealed: SealStatus = []

    /// Names of the set flags, `sealed` when none is: for logs and JSON.
    public var names: [String] {
        if isEmpty { return ["sealed"] }
        var out: [String] = []
        if contains(.tampered) { out.append("tampered") }
        if contains(.opened) { out.append("opened") }
        if contains(.approvedOpen) { out.append("approved_open") }
        if contains(.lowBattery) { out.append("low_battery") }
        let known: UInt8 = 0x01 | 0x20 | 0x40 | 0x80
        if rawValue & ~known != 0 { out.append("other_0x" + hexDigits(UInt64(rawValue & ~known), width: 2)) }
        return out
    }

    public var description: String { names.joined(separator: "|") }
}

func hexDigits(_ value: UInt64, width: Int) -> String {
    let s = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - s.count)) + s
}
