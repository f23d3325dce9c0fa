import FuzzDriver
import LaneWire

/// libFuzzer entry point: any bytes at all must give a batch (or a bundle's batches) or a
/// BatchDecodingError, never a crash, a hang or an unbounded allocation (AddressSanitizer and
/// libFuzzer's -rss_limit_mb watch).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBatchDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Small limits keep each run fast; the checks are the same at any limit.
    let limits = DecodingLimits(maxCompressedBytes: 1 << 20, maxDecompressedBytes: 4 << 20, maxEvents: 10_000)
    if let batch = try? BatchDecoder.decode(bytes, limits: limits) {
        // Whatever decodes must also render: the collector will print it.
        for event in batch.events { _ = event.json(naming: batch) }
    }
    // Also feed the bytes as an uncompressed protobuf body, so the fuzzer reaches the message
    // validation without first having to discover zstd framing.
    if let batch = try? BatchDecoder.decode(Zstd.compress(bytes, level: 1), limits: limits) {
        for event in batch.events { _ = event.json(naming: batch) }
    }
    // And as a bundle, as the collector reads one: every entry is a batch of its own.
    if let entries = try? BatchBundle.entries(bytes, maxEntries: 64) {
        for entry in entries { _ = try? BatchDecoder.decode(Array(entry), limits: limits) }
    }
    return 0
}

@_cdecl("FuzzBatchDecoder_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzBatchDecoder(data, size) }
}
