import LaneCore
import Testing

@Suite struct CivilTimeTests {
    @Test(arguments: [
        (Int64(0), 0, "1970-01-01 00:00:00"),
        (1_795_952_202_329_696_512, 0, "2026-11-29 11:36:42"),
        (1_795_952_202_329_696_512, -420, "2026-11-29 04:36:42"),  // MST
        (-1, 0, "1969-12-31 23:59:59"),
        (951_782_400_000_000_000, 0, "2000-02-29 00:00:00"),  // a leap day of a year divisible by 400
    ])
    func aUTCInstantAsACalendarDateAndClock(ns: Int64, offset: Int, text: String) {
        let t = CivilTime(utcNanoseconds: ns, offsetMinutes: offset)
        #expect("\(t.isoDate) \(t.clock)" == text)
    }
}
