import LaneCore

/// "2026-11-23 09:14:05" for UTC nanoseconds since 1970 (proleptic Gregorian calendar).
func utcText(_ nanoseconds: Int64) -> String {
    let t = CivilTime(utcNanoseconds: nanoseconds)
    return "\(t.isoDate) \(t.clock)"
}
