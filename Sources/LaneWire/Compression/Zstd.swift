import CZstd
import Synchronization

/// zstd compression through Debian's libzstd.
public enum Zstd {
    /// The level batches are compressed at, with or without a dictionary. Fixed, so that the
    /// same batch compresses to the same bytes every time (a resend must be a duplicate).
    public static let batchLevel: Int32 = 9

    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Compresses `input` into one zstd frame (the content size is recorded in the frame header).
    public static func compress(_ input: [UInt8], level: Int32 = 3) -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { inp in
                ZSTD_compress(out.baseAddress, bound, inp.baseAddress, inp.count, level)
            }
        }
        // Compression into a buffer of ZSTD_compressBound bytes cannot fail for valid levels.
        precondition(ZSTD_isError(written) == 0, "zstd: \(String(cString: ZSTD_getErrorName(written)))")
        output.removeSubrange(written...)
        return output
    }

    /// Decompresses `input`, refusing to produce more than `limit` bytes: a small hostile frame
    /// cannot make the caller allocate more than it allowed, whatever its header claims. A frame
    /// compressed with a shipped dictionary (its id in the header) is decompressed with it.
    ///
    /// The output grows from a few times the input, doubling, never past `limit` + 1 (one byte
    /// more tells "exactly the limit" from "over it"). The decoder writes into it directly, and
    /// its context comes from a pool: a query decodes thousands of small batches, and a fresh
    /// context (96 KiB) and a zeroed 128 KiB staging buffer for each cost more than the decoding.
    public static func decompress(_ input: [UInt8], limit: Int) throws(Error) -> [UInt8] {
        guard let stream = streams.take() else { throw Error(description: "zstd: out of memory") }
        defer { streams.give(stream) }
        let ceiling = limit + 1
        var output = [UInt8](repeating: 0, count: min(ceiling, max(1024, input.count * 4)))
        var filled = 0
        // Array.withUnsafeBytes does not forward typed throws: the closure hands back a Result.
        let outcome: Result<Void, Error> = input.withUnsafeBytes { (inp: UnsafeRawBufferPointer) in
            let dictionary: ZstdDictionary?
            do throws(Error) { dictionary = try Self.dictionary(for: inp) } catch { return .failure(error) }
            let referenced = prepare(stream, for: dictionary)
            if ZSTD_isError(referenced) != 0 {
                return .failure(Error(description: "zstd: \(String(cString: ZSTD_getErrorName(referenced)))"))
            }
            var inBuffer = ZSTD_inBuffer(src: inp.baseAddress, size: inp.count, pos: 0)
            while true {
                if filled == output.count {
                    // Array(repeating:) fills with memset even in a debug build; repeatElement goes byte by byte.
                    output.append(contentsOf: [UInt8](repeating: 0, count: min(output.count, ceiling - output.count)))
                }
                let (hint, produced) = output.withUnsafeMutableBytes { out in
                    var outBuffer = ZSTD_outBuffer(dst: out.baseAddress! + filled, size: out.count - filled, pos: 0)
                    let r = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
                    return (r, outBuffer.pos)
                }
                if ZSTD_isError(hint) != 0 {
                    return .failure(Error(description: "zstd: \(String(cString: ZSTD_getErrorName(hint)))"))
                }
                filled += produced
                guard filled <= limit else {
                    return .failure(Error(description: "zstd: decompressed size exceeds the \(limit)-byte limit"))
                }
                let inputDone = inBuffer.pos == inBuffer.size
                if hint == 0 && inputDone { return .success(()) }  // last frame complete, nothing left
                // Output space left over while input is exhausted: the decoder wants bytes that never come.
                if inputDone && filled < output.count { return .failure(Error(description: "zstd: truncated frame")) }
            }
        }
        try outcome.get()
        output.removeSubrange(filled...)
        return output
    }

    private static let streams = DecompressionStreams()
}

/// Decompression contexts for reuse, a few kept: each is reset before it goes back, so no state
/// of one frame (or of a hostile one that failed halfway) reaches the next.
private final class DecompressionStreams: Sendable {
    /// A context is only ever used by whoever took it, so handing it between threads is safe.
    private struct Idle: @unchecked Sendable { let stream: OpaquePointer }
    private let idle = Mutex<[Idle]>([])
    private static let kept = 8

    func take() -> OpaquePointer? {
        idle.withLock { $0.popLast() }?.stream ?? ZSTD_createDStream()
    }

    func give(_ stream: OpaquePointer) {
        guard ZSTD_isError(ZSTD_DCtx_reset(stream, ZSTD_reset_session_only)) == 0 else {
            ZSTD_freeDStream(stream)
            return
        }
        let keptIt = idle.withLock { idle in
            guard idle.count < Self.kept else { return false }
            idle.append(Idle(stream: stream))
            return true
        }
        if !keptIt { ZSTD_freeDStream(stream) }
    }
}
