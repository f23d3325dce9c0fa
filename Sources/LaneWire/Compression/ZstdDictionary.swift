import CZstd
import CZstdDictionaries
import Synchronization

/// A zstd dictionary trained on batches (`packaging/train-dictionary.sh`). A batch of a few
/// events is mostly its header, names and tables; primed with a dictionary of what such batches
/// hold, zstd writes about half the bytes. The dictionary's id is in each frame's header, so a
/// decoder needs no other sign of which one a batch used, and a frame without one decodes as
/// before.
public final class ZstdDictionary: @unchecked Sendable {  // the digested forms are read-only, shared by design
    /// The id in frame headers: 32768 + the version, in the range zstd leaves unregistered.
    public let id: UInt32
    /// zstd digests a dictionary once for compressing and once for decompressing; each digested
    /// form is read-only and may be used from any thread at once (zstd's documentation).
    fileprivate let compression: OpaquePointer
    fileprivate let decompression: OpaquePointer

    private init(_ dictionary: lanegate_zstd_dictionary) {
        let bytes = UnsafeRawPointer(dictionary.bytes!), count = Int(dictionary.size)
        id = ZSTD_getDictID_fromDict(bytes, count)
        // Only out of memory at start-up makes these nil; nothing could run then anyway. A
        // digested dictionary fixes its level.
        compression = ZSTD_createCDict(bytes, count, Zstd.batchLevel)!
        decompression = ZSTD_createDDict(bytes, count)!
    }

    /// Every dictionary this program knows, oldest first: batches stored under an old one stay
    /// readable. The last is the one gateways compress with.
    public static let shipped: [ZstdDictionary] = [ZstdDictionary(lanegate_zstd_dictionary_v1)]

    /// The dictionary gateways compress with.
    public static var current: ZstdDictionary { shipped[shipped.count - 1] }

    /// The shipped dictionary with `id`, if any.
    public static func withID(_ id: UInt32) -> ZstdDictionary? { shipped.first { $0.id == id } }

    /// The header a collector announces its dictionaries in, on every answer to a batch.
    public static let announcementHeader = "Lanegate-Zstd-Dictionaries"

    /// The ids a collector announces it can read.
    public static var announcement: String { shipped.map { String($0.id) }.joined(separator: ",") }

    /// Whether an announcement (a collector's `Lanegate-Zstd-Dictionaries` header) names `current`.
    public static func announcementNamesCurrent(_ header: String?) -> Bool {
        guard let header else { return false }
        let wanted = String(current.id)
        return header.split(separator: ",").contains { $0.filter { $0 != " " } == wanted }
    }
}

extension Zstd {
    /// Compresses `input` into one zstd frame primed with `dictionary` (its id in the header).
    public static func compress(_ input: [UInt8], dictionary: ZstdDictionary) -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let context = ZSTD_createCCtx()
        defer { ZSTD_freeCCtx(context) }
        let written = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { inp in
                ZSTD_compress_usingCDict(context, out.baseAddress, bound, inp.baseAddress, inp.count, dictionary.compression)
            }
        }
        precondition(ZSTD_isError(written) == 0, "zstd: \(String(cString: ZSTD_getErrorName(written)))")
        output.removeSubrange(written...)
        return output
    }

    /// The id of the dictionary `frame` was compressed with, from its header; 0 for none.
    public static func dictionaryID(of frame: [UInt8]) -> UInt32 {
        ZSTD_getDictID_fromFrame(frame, frame.count)
    }

    /// `frame` compressed again without its dictionary, at the batches' level; nil when it used
    /// none (or is not a frame this program can read).
    public static func withoutDictionary(_ frame: [UInt8]) -> [UInt8]? {
        guard dictionaryID(of: frame) != 0,
              let body = try? decompress(frame, limit: DecodingLimits().maxDecompressedBytes) else { return nil }
        return compress(body, level: batchLevel)
    }

    /// The dictionary a frame needs: nil for none; an error naming the id when this program
    /// does not have it (a gateway newer than this collector, or a damaged frame).
    static func dictionary(for frame: UnsafeRawBufferPointer) throws(Error) -> ZstdDictionary? {
        let id = ZSTD_getDictID_fromFrame(frame.baseAddress, frame.count)
        guard id != 0 else { return nil }
        guard let dictionary = ZstdDictionary.withID(id) else {
            throw Error(description: "zstd: the frame needs dictionary \(id), which this program does not have "
                                   + "(it has \(ZstdDictionary.announcement))")
        }
        return dictionary
    }

    /// Points `stream` at the dictionary the frame needs, or at none.
    static func prepare(_ stream: OpaquePointer, for dictionary: ZstdDictionary?) -> Int {
        ZSTD_DCtx_refDDict(stream, dictionary?.decompression)
    }
}

/// Whether batches are compressed with the current dictionary. A collector older than the
/// dictionary could not read such a batch and would refuse it, so by default (`auto`) a gateway
/// starts without and takes it up once a collector's answer announces it
/// (`Lanegate-Zstd-Dictionaries`); an answer without the announcement (an older collector behind
/// the same address or among the fallbacks) turns it off again. Shared between the uplink,
/// which reads the answers, and the encoder on the pipeline thread.
public final class DictionaryUse: Sendable {
    public enum Policy: String, Sendable, CaseIterable {
        /// Once a collector has announced it; not while the last answer came without.
        case auto
        /// From the first batch: every collector is known to read it.
        case always
        /// Never: batches as before dictionaries.
        case never
    }

    public let policy: Policy
    private let announced = Atomic<Bool>(false)

    public init(policy: Policy) { self.policy = policy }

    /// The dictionary to compress the next batch with, if any.
    public var dictionary: ZstdDictionary? {
        switch policy {
        case .always: ZstdDictionary.current
        case .never: nil
        case .auto: announced.load(ordering: .relaxed) ? ZstdDictionary.current : nil
        }
    }

    /// A collector answered a batch, announcing `header` (nil: no announcement, an older collector).
    /// True when this changed whether batches use the dictionary.
    @discardableResult
    public func collectorAnswered(announcing header: String?) -> Bool {
        let reads = ZstdDictionary.announcementNamesCurrent(header)
        return announced.exchange(reads, ordering: .relaxed) != reads && policy == .auto
    }
}
