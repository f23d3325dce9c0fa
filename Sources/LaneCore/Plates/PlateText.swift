/// A licence plate as text, in the two forms lanes need: as shown (upper case, letters and
/// digits only, so "abc-123 " and "ABC 123" are one plate) and as matched, with the characters
/// cameras mistake for each other folded together (O and 0, I and 1), so that a misread of one
/// for the other still finds its truck.
public struct PlateText: Sendable, Hashable, CustomStringConvertible {
    /// Upper-case ASCII letters and digits, at most ``maxLength``.
    public let shown: String

    /// Longer than any plate issued on either side of the border (Mexico's and the US states'
    /// are 5 to 8, some trailers 10); anything longer is a misread or garbage.
    public static let maxLength = 12

    /// Nil when nothing of a plate is left: no letters or digits, or more than ``maxLength``.
    /// Letters outside ASCII (a camera's Ñ) are not plate characters on either side.
    public init?(_ raw: some StringProtocol) {
        var out: [UInt8] = []
        for byte in raw.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): out.append(byte - 32)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): out.append(byte)
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "\t"): continue
            default: return nil
            }
            if out.count > Self.maxLength { return nil }
        }
        guard !out.isEmpty else { return nil }
        shown = String(decoding: out, as: UTF8.self)
    }

    /// What two reads of one plate share even when a camera took an O for a 0 or an I for a 1.
    public var matchingKey: String {
        String(decoding: shown.utf8.map { c in
            switch c {
            case UInt8(ascii: "O"): UInt8(ascii: "0")
            case UInt8(ascii: "I"): UInt8(ascii: "1")
            default: c
            }
        }, as: UTF8.self)
    }

    public var description: String { shown }
}
