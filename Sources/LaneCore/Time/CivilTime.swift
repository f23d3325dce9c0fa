/// A UTC instant as a calendar date and clock time (proleptic Gregorian), at an offset from UTC:
/// for people, in logs, tools and feeds. No time-zone database: a port's offset comes from its
/// configuration.
public struct CivilTime: Sendable, Hashable {
    public var year: Int64
    public var month: Int64
    public var day: Int64
    public var hour: Int64
    public var minute: Int64
    public var second: Int64

    public init(utcNanoseconds: Int64, offsetMinutes: Int = 0) {
        let utcSeconds = utcNanoseconds >= 0 ? utcNanoseconds / 1_000_000_000 : (utcNanoseconds - 999_999_999) / 1_000_000_000
        let seconds = utcSeconds + Int64(offsetMinutes) * 60
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        hour = secondOfDay / 3600
        minute = secondOfDay / 60 % 60
        second = secondOfDay % 60
        // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// "2026-11-23"
    public var isoDate: String { "\(year)-\(Self.two(month))-\(Self.two(day))" }
    /// "09:14:05"
    public var clock: String { "\(Self.two(hour)):\(Self.two(minute)):\(Self.two(second))" }

    public static func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
