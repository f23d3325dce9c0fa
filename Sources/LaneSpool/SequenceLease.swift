#if canImport(Glibc)
import Glibc
#endif

/// A small file beside the spool holding a sequence number no batch has reached yet. The spool
/// never hands out a sequence at or above the lease without first writing a higher one, so when
/// the spool file is lost (corrupt, moved aside) a new spool starts above every sequence ever
/// sent, and the collector never mistakes new data for a repeat.
///
/// While the disk refuses the spool, batches live in memory and the file's own `next_sequence`
/// falls behind; the lease is then marked *unsynced*, and a spool opened over it starts at the
/// lease rather than at its stale counter.
struct SequenceLease {
    let path: String
    /// Sequences are reserved this many at a time, so the file is written rarely.
    static let block: UInt64 = 1000
    private(set) var limit: UInt64 = 0
    private(set) var unsynced = false

    init(path: String) {
        self.path = path
        if let (limit, unsynced) = Self.read(path) {
            self.limit = limit
            self.unsynced = unsynced
        }
    }

    /// True when `sequence` may be used; extends the lease on disk first when needed.
    /// `synced` says whether the spool file records the sequence too.
    mutating func permits(_ sequence: UInt64, synced: Bool) -> Bool {
        let flag = unsynced || !synced
        if sequence < limit && flag == unsynced { return true }
        let next = max(limit, sequence + Self.block)
        guard Self.write(next, unsynced: flag, to: path) else { return false }
        limit = next
        unsynced = flag
        return true
    }

    /// The spool file caught up with every sequence handed out.
    mutating func markSynced() {
        guard unsynced, Self.write(limit, unsynced: false, to: path) else { return }
        unsynced = false
    }

    private static func read(_ path: String) -> (UInt64, Bool)? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 32)
        guard fgets(&buffer, 32, file) != nil else { return nil }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let words = text.trimmingSpaces.split(separator: " ")
        guard let first = words.first, let limit = UInt64(first) else { return nil }
        return (limit, words.dropFirst().first == "unsynced")
    }

    /// Writes atomically: a temporary file, fsync, rename, fsync of the directory.
    private static func write(_ value: UInt64, unsynced: Bool, to path: String) -> Bool {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return false }
        let bytes = Array("\(value)\(unsynced ? " unsynced" : "")\n".utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            unlink(temporary)
            return false
        }
        let directory = open(Self.directory(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
        return true
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

extension String {
    var trimmingSpaces: Substring {
        let s = drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        return s.dropLast(s.reversed().prefix { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }.count)
    }
}

/// Free bytes on the filesystem holding `path` (for an unprivileged user), or nil.
func freeDiskBytes(at path: String) -> Int64? {
    var info = statvfs()
    guard statvfs(SequenceLease.directory(of: path), &info) == 0 else { return nil }
    return Int64(info.f_bavail) * Int64(info.f_frsize)
}
