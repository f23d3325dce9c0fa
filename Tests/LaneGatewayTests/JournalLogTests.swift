import LaneCore
@testable import LaneGateway
import Logging
import Testing

@Suite("Journal logging")
struct JournalLogTests {
    @Test func journalLinesCarryThePriorityAndNoTimestamp() {
        let journal = JournalLogHandler(label: "lanegate.devices", journal: true, limiter: RepeatLimiter())
        #expect(journal.format("rfid-lane1 lost", level: .error) == "<3>rfid-lane1 lost\n")
        #expect(journal.format("x", level: .warning) == "<4>x\n")
        #expect(journal.format("x", level: .debug) == "<7>x\n")
        let terminal = JournalLogHandler(label: "lanegate", journal: false, limiter: RepeatLimiter())
        #expect(terminal.format("spool open", level: .info) == "INFO spool open\n")
    }

    @Test func aRepeatedMessageIsHeldBackAndCountedOnceItsMinuteIsOver() {
        let limiter = RepeatLimiter(burst: 3, window: .seconds(60))
        let t0 = MonotonicInstant(nanoseconds: .seconds(1000))
        var written: [String] = []
        for i in 0..<10 {
            written += limiter.admit("rfid-lane1: lost", level: .error, now: t0.advanced(by: .seconds(Int64(i)))).map(\.text)
        }
        written += limiter.admit("eseal: reading", level: .info, now: t0.advanced(by: .seconds(30))).map(\.text)
        #expect(written == Array(repeating: "rfid-lane1: lost", count: 3) + ["eseal: reading"])
        // A minute on, the next message of any kind brings the summary, and the burst starts anew.
        let later = limiter.admit("rfid-lane1: lost", level: .error, now: t0.advanced(by: .seconds(61))).map(\.text)
        #expect(later == ["rfid-lane1: lost (repeated 7 more times in 60 s)", "rfid-lane1: lost"])
    }
}
