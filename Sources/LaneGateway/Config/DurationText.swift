import LaneCore
import LaneTOML

/// Parses durations as written in the configuration: `"3s"`, `"500ms"`, `"5min"`, `"2h"`,
/// `"250us"`, or a bare number of seconds. Returns nil for anything else, or a negative value.
func parseDuration(_ text: String) -> Nanoseconds? {
    let units: [(suffix: String, nanoseconds: Double)] = [
        ("ms", 1e6), ("us", 1e3), ("ns", 1), ("min", 60e9), ("s", 1e9), ("h", 3600e9),
    ]
    let trimmed = text.trimmingSpaces()
    for unit in units where trimmed.hasSuffix(unit.suffix) {
        let number = trimmed.dropLast(unit.suffix.count).trimmingSpaces()
        guard let value = Double(number), value.isFinite, value >= 0, value * unit.nanoseconds < 9e18 else { return nil }
        return Nanoseconds((value * unit.nanoseconds).rounded())
    }
    guard let seconds = Double(trimmed), seconds.isFinite, seconds >= 0, seconds < 9e9 else { return nil }
    return Nanoseconds((seconds * 1e9).rounded())
}

/// Parses sizes as written in the configuration: `"512MiB"`, `"1GiB"`, `"64KiB"`, `"2GB"`,
/// `"100MB"`, or a bare number of bytes. Returns nil for anything else.
func parseByteSize(_ text: String) -> Int64? {
    let units: [(suffix: String, bytes: Double)] = [
        ("KiB", 1024), ("MiB", 1024 * 1024), ("GiB", 1024 * 1024 * 1024),
        ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("B", 1),
    ]
    let trimmed = text.trimmingSpaces()
    for unit in units where trimmed.hasSuffix(unit.suffix) {
        let number = trimmed.dropLast(unit.suffix.count).trimmingSpaces()
        guard let value = Double(number), value.isFinite, value >= 0, value * unit.bytes < 9e18 else { return nil }
        return Int64((value * unit.bytes).rounded())
    }
    return Int64(trimmed).flatMap { $0 >= 0 ? $0 : nil }
}
