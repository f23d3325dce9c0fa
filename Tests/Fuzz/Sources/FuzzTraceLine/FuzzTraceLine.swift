import FuzzDriver
import LaneCore

/// libFuzzer entry point for trace lines, differential: whatever line the replay's fast path
/// (``TraceScanner``) takes, the precise parser must take too and read the same detection from
/// it. Any bytes may come; neither may crash. A disagreement traps, which libFuzzer reports.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTraceLine(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    let parsed = try? TraceLine(parsing: text)
    // The scanner sees the same bytes the parser saw: invalid UTF-8 is the parser's to repair.
    guard Array(text.utf8).elementsEqual(bytes), let detection = scanner.detection(in: bytes) else { return 0 }
    guard let line = parsed, line.device == devices[Int(detection.device.rawValue)],
          TraceLine(time: detection.time, device: line.device, payload: detection.payload).json == line.json else {
        fatalError("the scanner read \(text.debugDescription) differently from the parser")
    }
    return 0
}

private let devices = ["rfid-a", "seal-rx", "loops"]
private let scanner = TraceScanner(deviceNames: devices)

@_cdecl("FuzzTraceLine_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzTraceLine(data, size) }
}
