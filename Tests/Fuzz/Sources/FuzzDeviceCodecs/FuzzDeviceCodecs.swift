import FuzzDriver
import LaneDevices

/// libFuzzer entry point for the device codecs: any bytes from a reader or receiver must give
/// frames, values or counted errors — never a crash, a hang or unbounded memory. Every input is
/// fed to each decoder both as a stream (framing, CRC, resync) and as an already-framed body
/// (so the fuzzer reaches record parsing without having to forge CRCs).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDeviceCodecs(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    var mercury = MercuryFrameDecoder(crcMode: bytes.first.map { $0 & 1 == 0 ? .present : .absent } ?? .present)
    mercury.append(bytes)
    while let frame = mercury.next() { _ = try? MercuryStreamMessage.parse(frame.data) }
    mercury.abandonPartialFrame()
    _ = try? MercuryStreamMessage.parse(bytes)
    _ = MercuryVersion(bytes)

    var eseal = ESealFrameDecoder()
    eseal.append(bytes)
    while let frame = eseal.next() { _ = try? ESealMessage(frame) }
    if let type = bytes.first { _ = try? ESealMessage(ESealFrame(type: type, payload: Array(bytes.dropFirst().prefix(249)))) }

    var llrp = LLRPMessageDecoder()
    llrp.append(bytes)
    while let message = try? llrp.next() { parseLLRP(message.body) }
    parseLLRP(bytes)
    return 0
}

private func parseLLRP(_ body: [UInt8]) {
    var unreadable = 0
    _ = try? LLRPReports.tags(in: body, unreadable: &unreadable)
    _ = try? LLRPReports.status(in: body)
    _ = try? LLRPReports.connectionAttempt(in: body)
    _ = try? LLRPReports.capabilities(in: body)
}

@_cdecl("FuzzDeviceCodecs_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzDeviceCodecs(data, size) }
}
