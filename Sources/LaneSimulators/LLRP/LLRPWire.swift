/// The reader's side of LLRP encoding, kept apart from the client's codec.
public enum LLRPWire {
    /// The simulator's maker number: 32473, the private enterprise number RFC 5612 reserves
    /// for documentation, so it is no real company's.
    public static let enterpriseNumber: UInt32 = 32473

    public static func message(_ type: UInt16, _ id: UInt32, _ body: [UInt8]) -> [UInt8] {
        u16(1 << 10 | type) + u32(UInt32(10 + body.count)) + u32(id) + body
    }

    public static func tlv(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
        u16(type) + u16(UInt16(4 + value.count)) + value
    }

    static func status(_ code: UInt16, _ text: String = "") -> [UInt8] {
        let bytes = Array(text.utf8)
        return tlv(287, u16(code) + u16(UInt16(bytes.count)) + bytes)
    }

    static func connectionEvent(status: UInt16, id: UInt32, utcMicros: Int64) -> [UInt8] {
        message(63, id, tlv(246, tlv(128, u64(UInt64(max(0, utcMicros)))) + tlv(256, u16(status))))
    }

    /// The value of the first top-level TLV of `type` in `body`.
    static func find(_ type: UInt16, in body: [UInt8]) -> [UInt8]? {
        var i = 0
        while i + 4 <= body.count {
            let t = (UInt16(body[i]) << 8 | UInt16(body[i + 1])) & 0x3FF
            let length = Int(UInt16(body[i + 2]) << 8 | UInt16(body[i + 3]))
            guard length >= 4, i + length <= body.count else { return nil }
            if t == type { return Array(body[(i + 4)..<(i + length)]) }
            i += length
        }
        return nil
    }

    /// The longest message a client may send. Its requests are at most a few kilobytes; a
    /// header that claims more is garbage or an attack, not a message worth waiting for.
    static let maxClientMessage = 1 << 20

    /// A header whose length no message can have.
    struct BadLength: Error {
        var length: Int
    }

    /// The first whole message of `input`, taken off it; nil until one has arrived.
    static func cut(_ input: inout [UInt8]) throws(BadLength) -> (type: UInt16, version: UInt8, id: UInt32, body: [UInt8])? {
        guard input.count >= 10 else { return nil }
        let length = Int(input[2...5].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard (10...maxClientMessage).contains(length) else { throw BadLength(length: length) }
        guard input.count >= length else { return nil }
        let type = (UInt16(input[0]) << 8 | UInt16(input[1])) & 0x3FF
        let version = (input[0] >> 2) & 0x7
        let id = input[6...9].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let body = Array(input[10..<length])
        input.removeFirst(length)
        return (type, version, id, body)
    }

    static func u16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func u32(_ v: UInt32) -> [UInt8] { u16(UInt16(v >> 16)) + u16(UInt16(v & 0xFFFF)) }
    static func u64(_ v: UInt64) -> [UInt8] { u32(UInt32(v >> 32)) + u32(UInt32(v & 0xFFFF_FFFF)) }
}

extension LLRPWire {
    static func u8(_ v: UInt8) -> [UInt8] { [v] }
    static func s16(_ v: Int16) -> [UInt8] { u16(UInt16(bitPattern: v)) }

    /// A big-endian unsigned number from `bytes[at..<at+size]`; nil when out of range.
    static func number(_ bytes: [UInt8], at: Int, size: Int) -> UInt64? {
        guard at >= 0, at + size <= bytes.count else { return nil }
        return bytes[at..<(at + size)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// Every top-level TLV of `body` from `offset` on, as (type, value); stops at the first
    /// malformed one (a TV parameter, or a length that does not fit).
    static func parameters(_ body: [UInt8], from offset: Int = 0) -> [(type: UInt16, value: [UInt8])] {
        var out: [(UInt16, [UInt8])] = []
        var i = offset
        while i + 4 <= body.count, body[i] & 0x80 == 0 {
            let t = (UInt16(body[i]) << 8 | UInt16(body[i + 1])) & 0x3FF
            let length = Int(UInt16(body[i + 2]) << 8 | UInt16(body[i + 3]))
            guard length >= 4, i + length <= body.count else { break }
            out.append((t, Array(body[(i + 4)..<(i + length)])))
            i += length
        }
        return out
    }
}
