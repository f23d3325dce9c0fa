import LaneWire
import Testing

/// A bundle's framing gives back its batches byte for byte, and refuses anything else whole.
@Suite("Batch bundles")
struct BatchBundleTests {
    @Test func entriesComeBackByteForByteInOrder() throws {
        let bodies: [[UInt8]] = [[], [1], Array(repeating: 7, count: 127), Array(repeating: 9, count: 128),
                                 (0..<70_000).map { UInt8(truncatingIfNeeded: $0) }]
        let bundle = BatchBundle.encode(bodies)
        #expect(Array(bundle.prefix(2)) == [0x0A, 0x00])
        #expect(try BatchBundle.entries(bundle).map(Array.init) == bodies)
        #expect(try BatchBundle.entries([]).isEmpty)
    }

    @Test func aDamagedBundleIsRefusedWhole() {
        let bundle = BatchBundle.encode([[1, 2, 3], [4, 5, 6, 7]])
        for cut in 1..<bundle.count where cut != 5 {  // 5: the first entry whole, a bundle of one
            #expect(throws: BatchDecodingError.self) { try BatchBundle.entries(Array(bundle.prefix(cut))) }
        }
        // Another field, another wire type, a length past the end, a varint without an end.
        for bad: [UInt8] in [[0x12, 0x00], [0x08, 0x01], [0x0A, 0x05, 1, 2], [0x0A] + Array(repeating: 0xFF, count: 11),
                             [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]] {
            #expect(throws: BatchDecodingError.self) { try BatchBundle.entries(bad) }
        }
    }

    @Test func theNumberOfEntriesIsBounded() throws {
        let bundle = BatchBundle.encode(Array(repeating: [0x42], count: 11))
        #expect(try BatchBundle.entries(bundle, maxEntries: 11).count == 11)
        #expect(throws: BatchDecodingError.self) { try BatchBundle.entries(bundle, maxEntries: 10) }
    }
}
