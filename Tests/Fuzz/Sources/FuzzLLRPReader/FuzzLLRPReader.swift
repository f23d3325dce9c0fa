import FuzzDriver
import LaneDevices
import LaneSimulators

/// One simulated reader for the whole run; every input is a fresh client of it.
private let reader = try! LLRPReaderSimulator()

/// libFuzzer entry point for what LLRP clients send the simulated reader: any bytes must get
/// well-formed LLRP back (whole messages the gateway's own decoder reads) or a hang-up, never a
/// crash, a hang or unbounded memory.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLLRPReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let (reply, _) = reader.answer(freshClientSending: bytes)
    var decoder = LLRPMessageDecoder()
    decoder.append(reply)
    do {
        while try decoder.next() != nil {}
    } catch {
        fatalError("the reader answered with broken framing: \(error)")
    }
    precondition(decoder.pendingBytes == 0, "the reader answered with a partial message")
    return 0
}

@_cdecl("FuzzLLRPReader_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzLLRPReader(data, size) }
}
