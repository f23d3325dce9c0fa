import CZstd

/// zstd compression through Debian's libzstd.
public enum Zstd {
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
    /// cannot make the caller allocate more than it allowed, whatever its header claims.
    public static func decompress(_ input: [UInt8], limit: Int) throws(Error) -> [UInt8] {
        guard let stream = ZSTD_createDStream() else { throw Error(description: "zstd: out of memory") }
        defer { ZSTD_freeDStream(stream) }
        var output: [UInt8] = []
        let chunk = ZSTD_DStreamOutSize()
        var scratch = [UInt8](repeating: 0, count: chunk)
        // Array.withUnsafeBytes does not forward typed throws: the closure hands back a Result.
        let outcome: Result<Void, Error> = input.withUnsafeBytes { (inp: UnsafeRawBufferPointer) in
            var inBuffer = ZSTD_inBuffer(src: inp.baseAddress, size: inp.count, pos: 0)
            while true {
                let (hint, produced) = scratch.withUnsafeMutableBytes { out in
                    var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    let r = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
                    return (r, outBuffer.pos)
                }
                if ZSTD_isError(hint) != 0 {
                    return .failure(Error(description: "zstd: \(String(cString: ZSTD_getErrorName(hint)))"))
                }
                guard output.count + produced <= limit else {
                    return .failure(Error(description: "zstd: decompressed size exceeds the \(limit)-byte limit"))
                }
                output.append(contentsOf: scratch[0..<produced])
                let inputDone = inBuffer.pos == inBuffer.size
                if hint == 0 && inputDone { return .success(()) }  // last frame complete, nothing left
                // Output space left over while input is exhausted: the decoder wants bytes that never come.
                if inputDone && produced < chunk { return .failure(Error(description: "zstd: truncated frame")) }
            }
        }
        try outcome.get()
        return output
    }
}
