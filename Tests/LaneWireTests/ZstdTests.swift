import LaneWire
import Testing

/// The decompressor grows its output, reuses pooled contexts and holds its limit exactly.
@Suite("zstd")
struct ZstdTests {
    /// Bytes that compress well but not to nothing, so the output outgrows its first guess.
    static func text(_ count: Int) -> [UInt8] {
        var state: UInt32 = 7
        return (0..<count).map { i in
            state = state &* 1_103_515_245 &+ 12_345
            return i % 32 != 0 ? UInt8(i % 64) : UInt8(truncatingIfNeeded: state >> 24)
        }
    }

    @Test func theLimitIsExact() throws {
        let input = Self.text(300_000)
        let frame = Zstd.compress(input)
        #expect(frame.count * 4 < input.count, "the output must outgrow its first allocation")
        #expect(try Zstd.decompress(frame, limit: input.count) == input)
        #expect(throws: Zstd.Error.self) { try Zstd.decompress(frame, limit: input.count - 1) }
        #expect(try Zstd.decompress(Zstd.compress([]), limit: 0) == [])
        #expect(try Zstd.decompress(Zstd.compress([42]), limit: 1) == [42])
        #expect(throws: Zstd.Error.self) { try Zstd.decompress(Zstd.compress([42, 43]), limit: 1) }
    }

    /// A context that failed halfway through a frame goes back to the pool reset: what it
    /// decodes next is the next frame alone.
    @Test func aFailedFrameLeavesNothingBehind() throws {
        let first = Self.text(50_000), second = Self.text(7_000).reversed().map { $0 }
        let frame = Zstd.compress(first)
        for _ in 0..<20 {
            #expect(throws: Zstd.Error.self) { try Zstd.decompress(Array(frame.prefix(frame.count / 2)), limit: 1 << 20) }
            #expect(throws: Zstd.Error.self) { try Zstd.decompress(frame, limit: 10) }
            #expect(try Zstd.decompress(Zstd.compress(second), limit: 1 << 20) == second)
        }
        // Two frames back to back decode as their concatenation, as before.
        #expect(try Zstd.decompress(Zstd.compress(first) + Zstd.compress(second), limit: 1 << 20) == first + second)
    }

    @Test func manyThreadsAtOnceEachGetTheirOwnContext() async throws {
        let inputs = (0..<32).map { Self.text(1_000 + $0 * 997) }
        let frames = inputs.map { Zstd.compress($0) }
        let decoded = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for round in 0..<8 {
                for (i, frame) in frames.enumerated() { group.addTask { (i, try Zstd.decompress(frame, limit: 1 << 20)) } }
                _ = round
            }
            return try await group.reduce(into: [(Int, [UInt8])]()) { $0.append($1) }
        }
        #expect(decoded.count == 256 && decoded.allSatisfy { inputs[$0.0] == $0.1 })
    }
}
