#if canImport(Glibc)
import Glibc
#endif
import LaneCore
import Logging
import Synchronization

/// swift-log to standard error, one line per message, as journald wants it: under systemd
/// (`$JOURNAL_STREAM` set) each line starts with its syslog priority (`<3>` error … `<7>` debug)
/// and carries no timestamp (the journal adds one); elsewhere lines start with the time and level.
/// The same message more than `burst` times a minute is held back, and how many were is said
/// once the minute is over, so a flapping device cannot flood the journal.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let journal: Bool
    private let limiter: RepeatLimiter

    public init(label: String, journal: Bool = SystemdNotifier.processEnvironment()["JOURNAL_STREAM"] != nil,
                limiter: RepeatLimiter = .shared) {
        self.label = label
        self.journal = journal
        self.limiter = limiter
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        let context = fields.isEmpty ? "" : " " + fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let text = "\(label): \(event.message)\(context)"
        for line in limiter.admit(text, level: event.level, now: .now()) {
            write(line.text, level: line.level)
        }
    }

    func format(_ text: String, level: Logger.Level) -> String {
        journal ? "<\(Self.priority(level))>\(text)\n" : "\(level.rawValue.uppercased()) \(text)\n"
    }

    private func write(_ text: String, level: Logger.Level) {
        let line = Array(format(text, level: level).utf8)
        line.withUnsafeBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}

/// Lets each distinct message through `burst` times a minute; past that, counts it, and when
/// its minute is over says how many were held back.
public final class RepeatLimiter: Sendable {
    public static let shared = RepeatLimiter()

    struct Window {
        var start: MonotonicInstant
        var count: Int
        var level: Logger.Level
    }

    public let burst: Int
    public let window: Nanoseconds
    private let windows = Mutex<[String: Window]>([:])

    public init(burst: Int = 5, window: Nanoseconds = .minutes(1)) {
        self.burst = burst
        self.window = window
    }

    /// The lines to write for `text` now: itself, a summary of an earlier burst, both or neither.
    func admit(_ text: String, level: Logger.Level, now: MonotonicInstant) -> [(text: String, level: Logger.Level)] {
        windows.withLock { windows in
            var out: [(String, Logger.Level)] = []
            // Summaries for every message whose window has ended (not only this one's).
            for (key, w) in windows where now.since(w.start) >= window {
                if w.count > burst { out.append(("\(key) (repeated \(w.count - burst) more times in \(window / 1_000_000_000) s)", w.level)) }
                windows[key] = nil
            }
            var w = windows[text] ?? Window(start: now, count: 0, level: level)
            w.count += 1
            windows[text] = w
            if w.count <= burst { out.append((text, level)) }
            if windows.count > 10_000 { windows.removeAll() }  // bounded, whatever is logged
            return out
        }
    }
}
