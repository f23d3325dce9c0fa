import TOMLKit
import LaneTOML

/// A configuration file read again while the daemon runs (SIGHUP, `systemctl reload`): which
/// top-level tables differ from the text the daemon started with, and which of those it takes
/// on at once. Devices, lanes, the spool and the collector shape the pipeline, the batches and
/// the open connections; they change at the next restart, which loses nothing (SIGTERM drains
/// and commits).
public struct ConfigReload: Sendable {
    /// Tables a running daemon applies without a restart.
    public static let appliedLive: Set<String> = ["metrics"]

    /// The file as it is now, validated.
    public let config: GatewayConfig
    /// Its text, to compare the next reload against.
    public let text: String
    /// Top-level keys this reload changed, in the file's terms ("devices", "lanes", "metrics"…).
    public let changed: [String]
    /// Tables that differ from what the daemon started with and only a restart applies (a table
    /// changed and changed back no longer waits).
    public let needRestart: [String]

    public var appliedNow: [String] { changed.filter { Self.appliedLive.contains($0) } }

    /// Reads `path` again and compares it with the text of the last reload and the text the
    /// daemon started with. Throws the file's errors, exactly as `lanegate config check` reports
    /// them; the daemon then keeps its running configuration.
    public init(path: String, lastText: String, startText: String) throws {
        let text: String
        do { text = try readTextFile(path) } catch {
            throw ConfigError(file: path, line: nil, key: nil, message: "cannot read the file: \(error)")
        }
        config = try GatewayConfig.parse(text, file: path)
        self.text = text
        changed = Self.changedTables(from: lastText, to: text)
        needRestart = Self.changedTables(from: startText, to: text).filter { !Self.appliedLive.contains($0) }
    }

    /// Top-level keys present in either text whose values differ (comments and layout aside).
    static func changedTables(from old: String, to new: String) -> [String] {
        guard let before = try? TOMLTable(string: old), let after = try? TOMLTable(string: new) else { return [] }
        let keys = Set(before.keys).union(after.keys)
        return keys.filter { before[$0]?.tomlValue != after[$0]?.tomlValue }.sorted()
    }
}
