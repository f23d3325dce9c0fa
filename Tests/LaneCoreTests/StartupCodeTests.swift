import CLaneSystem
import LaneCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct StartupCodeTests {
    /// The daemon drops its mappings of code pages after start-up. The process must go on running
    /// the same code (the pages fault back in from the page cache), and its resident file pages
    /// must fall.
    @Test func unmappingTheExecutablesCodeKeepsItRunningAndShrinksResidentPages() throws {
        let before = try residentFileKiB()
        let unmapped = lanegate_unmap_startup_code()
        let after = try residentFileKiB()
        #expect(unmapped > 1 << 20, "the executable's code segment is several MiB; \(unmapped) bytes unmapped")
        #expect(after < before, "RssFile \(before) KiB before, \(after) KiB after")

        // Code that ran before runs again, through freshly faulted pages.
        let ring = SPSCRing<Int>(capacity: 8)
        var producer = RingProducer(ring)
        var consumer = RingConsumer(ring)
        let pushed = producer.push(41)
        let popped = consumer.pop()
        #expect(pushed)
        #expect(popped.map { $0 + 1 } == 42)
    }

    private func residentFileKiB() throws -> Int {
        let status = try #require(fopen("/proc/self/status", "r"))
        defer { fclose(status) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), status) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("RssFile:") { return Int(text.split(separator: " ")[1]) ?? 0 }
        }
        throw StatusFieldMissing()
    }

    private struct StatusFieldMissing: Error {}
}
