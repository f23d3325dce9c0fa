/// Several spooled batches in one request, each exactly as it was spooled (its own zstd frame):
/// a gateway draining a backlog pays one request's framing for many batches, and every batch
/// keeps its own sequence, content digest and exactly-once answer.
///
/// The body is a run of entries, each the byte `0x0A`, a varint length and that many bytes:
/// the encoding of a protobuf message `{ repeated bytes batches = 1; }`, so protobuf tools read
/// it too. It is sent without `Content-Encoding` (its entries are compressed already), which a
/// collector that predates bundles refuses with 415 before it reads the body: the uplink then
/// sends one batch per request again, and nothing is refused for good.
public enum BatchBundle {
    public static let contentType = "application/x-lanegate-bundle"
    /// Entries one bundle may hold; the collector refuses more.
    public static let maxEntries = 1024

    private static let entryTag: UInt8 = 0x0A

    public static func encode<Bodies: Sequence<[UInt8]>>(_ bodies: Bodies) -> [UInt8] {
        var out: [UInt8] = []
        for body in bodies {
            out.append(entryTag)
            var length = UInt64(body.count)
            while length >= 0x80 {
                out.append(UInt8(truncatingIfNeeded: length) | 0x80)
                length >>= 7
            }
            out.append(UInt8(length))
            out += body
        }
        return out
    }

    /// The entries of `bytes`, in order; a bundle that is cut short, carries anything but
    /// entries, or holds more than `maxEntries` is refused whole.
    public static func entries(_ bytes: [UInt8], maxEntries: Int = BatchBundle.maxEntries) throws(BatchDecodingError) -> [ArraySlice<UInt8>] {
        var entries: [ArraySlice<UInt8>] = []
        var at = 0
        while at < bytes.count {
            guard bytes[at] == entryTag else {
                throw BatchDecodingError("bundle entry \(entries.count) at byte \(at): expected field 1 (0x0A), found 0x\(String(bytes[at], radix: 16))")
            }
            at += 1
            var length: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard at < bytes.count, shift < 64 else {
                    throw BatchDecodingError("bundle entry \(entries.count): its length is cut short or longer than 64 bits")
                }
                let byte = bytes[at]
                at += 1
                length |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { break }
                shift += 7
            }
            guard length <= UInt64(bytes.count - at) else {
                throw BatchDecodingError("bundle entry \(entries.count) claims \(length) bytes; \(bytes.count - at) remain")
            }
            guard entries.count < maxEntries else {
                throw BatchDecodingError("a bundle holds at most \(maxEntries) batches")
            }
            entries.append(bytes[at..<(at + Int(length))])
            at += Int(length)
        }
        return entries
    }
}
