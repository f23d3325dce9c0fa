import Benchmark
import LaneCore
import LaneDevices
import LaneSimulators

/// Decoding what readers send, as a driver's thread does: one iteration cuts 10,000 streamed
/// Mercury tag frames out of a byte stream (CRC checked) and parses each record; the LLRP suite
/// decodes 1,000 RO_ACCESS_REPORTs of 10 tags each. Throughput is in frames (reports) a second.
func deviceBenchmarks() {
    let tags = (0..<2000).map { i in TagID(bytes: [0x30, 0x14, 0x2D, 0x1A, 0x80, 0x5C, 0x40, 0, 0, 0, UInt8(i >> 8), UInt8(i & 0xFF)])! }
    let mercuryStream: [UInt8] = (0..<10_000).flatMap { i in
        MercuryWire.response(opcode: 0x22, status: 0,
                             data: MercuryWire.tagRecord(tags[i % tags.count], antenna: UInt8(1 + i % 4), rssi: -50,
                                                         timestamp: UInt32(i), metadata: 0x0017))
    }
    Benchmark("Mercury stream decode, 10,000 tag frames",
              configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal], timeUnits: .milliseconds,
                                   maxDuration: .seconds(10))) { benchmark in
        for _ in benchmark.scaledIterations {
            var decoder = MercuryFrameDecoder()
            var records = 0
            for chunk in stride(from: 0, to: mercuryStream.count, by: 4096) {
                decoder.append(mercuryStream[chunk..<min(chunk + 4096, mercuryStream.count)])
                while let isTag = decoder.nextFrame({ _, _, data in
                    if case .tag = try? MercuryStreamMessage.parse(data) { true } else { false }
                }) {
                    if isTag { records += 1 }
                }
            }
            precondition(records == 10_000)
            blackHole(records)
        }
    }

    let report: [UInt8] = {
        var body: [UInt8] = []
        for i in 0..<10 {
            let fields = [0x8D] + tags[i].bytes + [0x81, 0, 1, 0x86, 0xCE, 0x82, 0, 4, 0xEC, 0x2E, 0xA8, 0x35, 0x4C, 0x09, 0x88, 0, 1]
            body += LLRPWire.tlv(240, fields)
        }
        return LLRPWire.message(61, 1, body)
    }()
    let reports = (0..<1000).flatMap { _ in report }
    Benchmark("LLRP report decode, 1,000 reports of 10 tags",
              configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal], timeUnits: .milliseconds,
                                   maxDuration: .seconds(10))) { benchmark in
        for _ in benchmark.scaledIterations {
            var decoder = LLRPMessageDecoder()
            decoder.append(reports)
            var count = 0
            var unreadable = 0
            while let message = try? decoder.next() {
                count += (try? LLRPReports.tags(in: message.body, unreadable: &unreadable).count) ?? 0
            }
            precondition(count == 10_000)
            blackHole(count)
        }
    }
}
