/// A tag identifier (an EPC, or its keyed pseudonym) of up to 32 bytes, held inline.
///
/// Inline storage keeps a ``Detection`` a plain value: pushing one through the ring copies bytes
/// and never touches the heap or a reference count. 32 bytes covers EPC-96, EPC-128 and the
/// 256-bit encodings; a longer EPC is rejected by ``init(bytes:)``.
public struct TagID: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public static let capacity = 32

    // Big-endian: byte 0 of the EPC is the most significant byte of w0.
    @usableFromInline var w0: UInt64 = 0
    @usableFromInline var w1: UInt64 = 0
    @usableFromInline var w2: UInt64 = 0
    @usableFromInline var w3: UInt64 = 0
    @usableFromInline var storedCount: UInt8 = 0
    /// Number of meaningful bytes.
    public var count: UInt8 { storedCount }

    /// Copies `bytes`; `nil` when there are more than ``capacity`` of them.
    @inlinable
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count <= TagID.capacity else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var i = 0
        for byte in bytes {
            Self.place(byte, at: i, in: &words)
            i += 1
        }
        (w0, w1, w2, w3) = words
        storedCount = UInt8(i)
    }

    /// Parses hexadecimal digits (an even number, up to 64); `nil` otherwise.
    public init?(hex: some StringProtocol) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8? = nil
        for c in hex.utf8 {
            guard let nibble = hexNibble(c) else { return nil }
            if let h = high {
                bytes.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        guard high == nil, !bytes.isEmpty else { return nil }
        self.init(bytes: bytes)
    }

    /// Puts byte `index` of the EPC into its word, most significant byte first.
    @inlinable @inline(__always)
    static func place(_ byte: UInt8, at index: Int, in words: inout (UInt64, UInt64, UInt64, UInt64)) {
        let value = UInt64(byte) << UInt64(56 - (index & 7) * 8)
        switch index >> 3 {
        case 0: words.0 |= value
        case 1: words.1 |= value
        case 2: words.2 |= value
        default: words.3 |= value
        }
    }

    /// Parses hexadecimal digits given as UTF-8, as ``init(hex:)`` does, without allocating.
    public init?(hexUTF8 digits: UnsafeBufferPointer<UInt8>) {
        guard digits.count >= 2, digits.count <= 2 * TagID.capacity, digits.count % 2 == 0 else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var i = 0
        while i < digits.count {
            guard let high = hexNibble(digits[i]), let low = hexNibble(digits[i + 1]) else { return nil }
            Self.place(high << 4 | low, at: i >> 1, in: &words)
            i += 2
        }
        (w0, w1, w2, w3) = words
        storedCount = UInt8(digits.count >> 1)
    }

    /// The byte at `index` (0 ..< count).
    @inlinable
    public subscript(index: Int) -> UInt8 {
        precondition(index >= 0 && index < Int(count), "TagID byte index out of range")
        let word: UInt64
        switch index >> 3 {
        case 0: word = w0
        case 1: word = w1
        case 2: word = w2
        default: word = w3
        }
        return UInt8(truncatingIfNeeded: word >> UInt64(56 - (index & 7) * 8))
    }

    public var bytes: [UInt8] { (0..<Int(count)).map { self[$0] } }

    /// Lower-case hexadecimal, two digits a byte.
    public var hex: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(Int(count) * 2)
        for i in 0..<Int(count) {
            let b = self[i]
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }
}

@usableFromInline
@inline(__always)
func hexNibble(_ c: UInt8) -> UInt8? {
    let digit = c &- UInt8(ascii: "0")
    if digit < 10 { return digit }
    // Setting bit 5 maps exactly 'A'...'F' onto 'a'...'f'.
    let letter = (c | 0x20) &- UInt8(ascii: "a")
    return letter < 6 ? letter + 10 : nil
}

extension Sequence<UInt8> {
    /// Lower-case hexadecimal, two digits a byte: digests and ids as text.
    public var lowercaseHex: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
