import FuzzDriver
import LaneCore
import LaneDevices

/// libFuzzer entry point for what plate cameras push: any body must give reads or a counted
/// error, never a crash, a hang or unbounded memory. An input whose first line is `--X` is sent
/// as multipart with boundary X (as the golden captures are), any other as XML and as JSON.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPlateCodecs(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var xmlType = "application/xml", jsonType = "application/json"
    if bytes.starts(with: Array("--".utf8)), let end = bytes.prefix(80).firstIndex(where: { $0 == 13 || $0 == 10 }) {
        let boundary = String(decoding: bytes[2..<end], as: UTF8.self)
        xmlType = "multipart/form-data; boundary=\"\(boundary)\""
        jsonType = xmlType
    }
    if case .read(let read)? = try? HikvisionANPREvent.decode(body: bytes, contentType: xmlType) { check(read) }
    for read in (try? PlateWebhookEvent.decode(body: bytes, contentType: jsonType)) ?? [] { check(read) }
    _ = try? XMLLeaves.scan(bytes)
    return 0
}

/// What every read must hold, whatever the body was.
private func check(_ read: CameraPlateRead) {
    if let plate = read.plate {
        precondition(!plate.shown.isEmpty && plate.shown.utf8.count <= PlateText.maxLength)
        precondition(plate.shown.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) })
        precondition(PlateText(plate.shown) == plate, "normalising is idempotent")
    }
    precondition(Set(read.candidates).count == read.candidates.count && !read.candidates.contains { $0 == read.plate })
    precondition(read.confidence.map { (0...1).contains($0) } ?? true)
    precondition(read.pictures.allSatisfy { $0.sha256.utf8.count == 64 })
}

@_cdecl("FuzzPlateCodecs_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzPlateCodecs(data, size) }
}
