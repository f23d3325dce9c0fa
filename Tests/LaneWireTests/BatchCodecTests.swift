import Foundation
import LaneCore
import LaneWire
import SwiftProtobuf
import Testing

@Suite("Batch codec")
struct BatchCodecTests {
    @Test func roundTripKeepsEveryEventAndHeader() throws {
        let decoded = try BatchDecoder.decode(encoder.encode(sampleBatch))
        #expect(decoded.gatewayID == "pharr-gw-01" && decoded.sequence == 42 && decoded.priority)
        // The wire carries the anchor as one offset: the same monotonic → UTC mapping.
        for t in [MonotonicInstant.zero, us(1_000_000), us(9_999_999_999)] {
            #expect(decoded.anchor.utcNanoseconds(at: t) == sampleBatch.anchor.utcNanoseconds(at: t))
        }
        #expect(decoded.anchor.sync == .synchronized && decoded.anchor.maxErrorMicros == 1500 && decoded.anchor.estimatedErrorMicros == 200)
        #expect(decoded.counters == sampleBatch.counters)
        #expect(decoded.bootID == "5b2c0e0c-7f7a-4e55-9a4d-3f1f0a6c2b11")
        #expect(decoded.events.count == sampleEvents.count)
        // Indices differ (batch table vs layout); names, values and times must not.
        for (original, back) in zip(sampleEvents, decoded.events) {
            #expect(back.json(naming: decoded) == original.json(naming: layout))
        }
    }

    @Test func timesAreFlooredToTheWireUnit() throws {
        let event = LaneEvent.tagArrived(TagArrival(readPoint: 0, tag: TagID(hex: "01")!, time: MonotonicInstant(nanoseconds: 1_999_999),
                                                    peakRSSI: -1, antennas: 0))
        var batch = sampleBatch
        batch.events = [event]
        #expect(try BatchDecoder.decode(encoder.encode(batch)).events[0].time == MonotonicInstant(nanoseconds: 1_000_000))
    }

    /// The protobuf bytes of the sample batch are part of the contract: a change here is a wire
    /// change. (Regenerate with LANEGATE_UPDATE_GOLDEN=1 only on purpose, and say so.)
    @Test func goldenBytes() throws {
        let bytes: [UInt8] = try encoder.message(for: sampleBatch).serializedBytes()
        let pbPath = goldenPath("batch-v1.pb"), zstPath = goldenPath("batch-v1.pb.zst")
        if ProcessInfo.processInfo.environment["LANEGATE_UPDATE_GOLDEN"] == "1" {
            try Data(bytes).write(to: URL(fileURLWithPath: pbPath))
            try Data(encoder.encode(sampleBatch)).write(to: URL(fileURLWithPath: zstPath))
        }
        let golden = try [UInt8](Data(contentsOf: URL(fileURLWithPath: pbPath)))
        #expect(bytes == golden)
        // Whatever libzstd version compressed it, the committed frame must still decode.
        let frame = try [UInt8](Data(contentsOf: URL(fileURLWithPath: zstPath)))
        let decoded = try BatchDecoder.decode(frame)
        #expect(decoded.events.map { $0.json(naming: decoded) } == sampleEvents.map { $0.json(naming: layout) })
    }

    /// Optional values are sparse: only the rows that have one appear, in row order.
    @Test func optionalValuesAreSparse() {
        let m = encoder.message(for: sampleBatch)
        #expect(m.kinds.count == sampleEvents.count && m.dt.count == sampleEvents.count)
        #expect(m.vehicles.loop.count == 2 && m.vehicles.speedRows == [0] && m.vehicles.speedCmS == [825])
        #expect(m.vehicles.lengthRows == [0] && m.vehicles.lengthCm == [562])
        #expect(m.sealDepartures.evictedRows == [0] && m.tagDepartures.evictedRows.isEmpty)
        #expect(m.gaps.deviceRows == [0] && m.gaps.lost == [17, 3])
    }

    @Test func namesAndTagsAreWrittenOncePerBatch() {
        let m = encoder.message(for: sampleBatch)
        #expect(m.tags.count == 1)
        #expect(m.tagArrivals.tag == [0] && m.tagDepartures.tag == [0])
        #expect(m.names == ["lane1/booth", "lane1/loop-b", "lane1/loop-a", "seal-rx", "no heartbeat for 3 s", "rfid-a"])
    }
}

@Suite("Hostile batches")
struct HostileBatchTests {
    func rejects(_ bytes: [UInt8], limits: DecodingLimits = DecodingLimits(), mentioning text: String) {
        do {
            _ = try BatchDecoder.decode(bytes, limits: limits)
            Issue.record("accepted a bad batch; expected an error mentioning \(text)")
        } catch {
            #expect(error.description.contains(text), "\(error.description)")
        }
    }

    @Test func garbageAndTruncationAreErrors() {
        let good = encoder.encode(sampleBatch)
        rejects([], mentioning: "zstd")
        rejects(Array("hello, collector".utf8), mentioning: "zstd")
        for cut in [1, good.count / 2, good.count - 1] {
            rejects(Array(good.prefix(cut)), mentioning: "zstd")
        }
        rejects(Zstd.compress([0x0A, 0xFF, 0xFF]), mentioning: "not a lanegate.v1.Batch")
    }

    @Test func decompressionBombIsStoppedAtTheLimit() {
        let bomb = Zstd.compress([UInt8](repeating: 0, count: 64 << 20), level: 19)
        #expect(bomb.count < 64 << 10, "a tiny frame that claims 64 MiB")
        rejects(bomb, limits: DecodingLimits(maxDecompressedBytes: 1 << 20), mentioning: "exceeds the 1048576-byte limit")
    }

    @Test func oversizedBodyIsRefusedBeforeDecompression() {
        rejects([UInt8](repeating: 0, count: 100), limits: DecodingLimits(maxCompressedBytes: 99), mentioning: "exceeds the 99-byte limit")
    }

    @Test func indicesOutsideTheTablesAreErrors() throws {
        var m = encoder.message(for: sampleBatch)
        m.tagArrivals.tag[0] = 5
        rejects(Zstd.compress(try m.serializedBytes()), mentioning: "tag index 5 outside the table of 1")
        m = encoder.message(for: sampleBatch)
        m.vehicles.loop[0] = 1000
        rejects(Zstd.compress(try m.serializedBytes()), mentioning: "events[2]: name index 1000")
    }

    @Test func impossibleValuesAreErrors() throws {
        var m = encoder.message(for: sampleBatch)
        m.dt[0] = .max
        rejects(Zstd.compress(try m.serializedBytes()), mentioning: "time overflows")
        m = encoder.message(for: sampleBatch)
        m.tagArrivals.peakRssi[0] = 500
        rejects(Zstd.compress(try m.serializedBytes()), mentioning: "RSSI 500")
        m = encoder.message(for: sampleBatch)
        m.tags[0] = Data(count: 40)
        rejects(Zstd.compress(try m.serializedBytes()), mentioning: "tags[0] must hold 1 to 32 bytes")
        m = encoder.message(for: sampleBatch)
        m.sequence = 0
        rejects(Zstd.compress(try m.serializedBytes()), mentioning: "sequence")
        m = encoder.message(for: sampleBatch)
        m.kinds[1] = .UNRECOGNIZED(42)
        rejects(Zstd.compress(try m.serializedBytes()), mentioning: "unknown event kind 42")
    }

    /// Every column must have one entry per event of its kind, or rows would be misattributed.
    @Test func columnsThatDisagreeWithTheKindsAreErrors() throws {
        var m = encoder.message(for: sampleBatch)
        m.tagDepartures.readCount.append(7)
        rejects(Zstd.compress(try m.serializedBytes()), mentioning: "tag_departures.read_count has 2 entries for 1 events")
        m = encoder.message(for: sampleBatch)
        m.kinds.append(.tagArrived)
        m.dt.append(1)
        rejects(Zstd.compress(try m.serializedBytes()), mentioning: "tag_arrivals.read_point has 1 entries for 2 events")
        m = encoder.message(for: sampleBatch)
        m.dt.removeLast()
        rejects(Zstd.compress(try m.serializedBytes()), mentioning: "dt has 10 entries for 11 events")
        m = encoder.message(for: sampleBatch)
        m.vehicles.speedRows = [2]
        rejects(Zstd.compress(try m.serializedBytes()), mentioning: "vehicles.speed rows must ascend within 0..<2")
        m = encoder.message(for: sampleBatch)
        m.gaps.device.append(0)
        rejects(Zstd.compress(try m.serializedBytes()), mentioning: "gaps.device has 2 values for 1 rows")
    }

    @Test func tooManyEventsAreRefused() throws {
        rejects(encoder.encode(sampleBatch), limits: DecodingLimits(maxEvents: 3), mentioning: "exceed the limit of 3")
        #expect(DecodingLimits(maxEvents: 1_000_000).maxEvents == 65_535, "no configuration goes past the id space")
    }

    /// Values a store cannot hold, or arithmetic on them would overflow: refused with a reason.
    @Test func sequencesAndTimesOutOfRangeAreRefused() throws {
        var m = encoder.message(for: sampleBatch)
        m.sequence = 1 << 63
        rejects(Zstd.compress(try m.serializedBytes()), mentioning: "sequence must be 1 to 9223372036854775807, got 9223372036854775808")
        m = encoder.message(for: sampleBatch)
        m.anchor.utcOffsetNs = .max - 10
        rejects(Zstd.compress(try m.serializedBytes()), mentioning: "events[0]: time is more than 230 years from 1970 UTC")
        m = encoder.message(for: sampleBatch)
        m.baseTime = 8_000_000_000_000  // in milliseconds: 253 years after the anchor
        rejects(Zstd.compress(try m.serializedBytes()), mentioning: "time is more than 230 years")
    }

    /// A loop held for a year with a speed from two edges a nanosecond apart: the length does
    /// not fit the wire, so it is left out; nothing traps.
    @Test func valuesTooLargeForTheWireAreLeftOut() throws {
        let absurd = VehiclePassage(loop: 0, onTime: MonotonicInstant(nanoseconds: 0),
                                    offTime: MonotonicInstant(nanoseconds: 30_000_000_000_000_000), speed: 5e9, length: 1.5e17)
        let nan = VehiclePassage(loop: 0, onTime: .zero, offTime: MonotonicInstant(nanoseconds: 1_000_000), speed: .nan, length: -.infinity)
        let batch = EventBatch(sequence: 1, events: [.vehicle(absurd), .vehicle(nan)], counters: nil, anchor: sampleBatch.anchor, priority: false)
        let m = encoder.message(for: batch)
        #expect(m.vehicles.speedRows.isEmpty && m.vehicles.lengthRows.isEmpty)
        let decoded = try BatchDecoder.decode(encoder.encode(batch))
        #expect(decoded.events.count == 2)
    }
}
