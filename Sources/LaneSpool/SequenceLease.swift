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
/// lease rather than at its stale counter. It also records what memory holds then (batches and
/// events not on disk), so that a process killed in that state is followed by a run that
/// reports them lost instead of forgetting them; and the last journal row that a memory batch
/// took in, so that the next run does not recover those events a second time.
///
/// A full disk must not stop these few bytes from being written, so the file is two fixed
/// slots written in place (`LeaseFile`): no write after the first allocates a block.
struct SequenceLease {
    let path: String
    /// Sequences are reserved this many at a time, so the file is written rarely.
    static let block: UInt64 = 1000
    private(set) var limit: UInt64 = 0
    private(set) var unsynced = false
    /// Batches and events that were only in memory when the file was last written.
    private(set) var held = Held()
    /// Journal rows up to this id went into batches held in memory (0: none).
    private(set) var journalThrough: Int64 = 0
    private var file: LeaseFile

    struct Held: Equatable {
        var batches: UInt64 = 0
        var events: UInt64 = 0
    }

    init(path: String) {
        self.path = path
        file = LeaseFile(path: path)
        if let text = file.read(), let state = Self.parse(text) {
            limit = state.limit
            unsynced = state.unsynced
            held = state.held
            journalThrough = state.journalThrough
        }
    }

    /// True when `sequence` may be used; extends the lease on disk first when needed.
    /// `synced` says whether the spool file records the sequence too.
    mutating func permits(_ sequence: UInt64, synced: Bool) -> Bool {
        let flag = unsynced || !synced
        if sequence < limit && flag == unsynced { return true }
        return write(limit: max(limit, sequence + Self.block), unsynced: flag, held: held, journal: journalThrough)
    }

    /// True when `sequence`, held in memory, may be sent: the lease covers it, says the spool
    /// file is behind, and names the journal rows the batch took in.
    mutating func permitsHeld(_ sequence: UInt64, journalThrough journal: Int64) -> Bool {
        if sequence < limit && unsynced && journal <= journalThrough { return true }
        return write(limit: max(limit, sequence + Self.block), unsynced: true, held: held, journal: max(journal, journalThrough))
    }

    /// Records what memory holds now (only while unsynced: a synced spool holds it on disk).
    @discardableResult
    mutating func record(held now: Held) -> Bool {
        guard unsynced, now != held else { return true }
        return write(limit: limit, unsynced: true, held: now, journal: journalThrough)
    }

    /// The spool file caught up with every sequence handed out, and memory is empty.
    mutating func markSynced() {
        guard unsynced else { return }
        _ = write(limit: limit, unsynced: false, held: Held(), journal: 0)
    }

    private mutating func write(limit next: UInt64, unsynced flag: Bool, held now: Held, journal: Int64) -> Bool {
        var text = "\(next)\(flag ? " unsynced" : "")"
        if flag && now != Held() { text += " held \(now.batches) \(now.events)" }
        if flag && journal > 0 { text += " journal \(journal)" }
        guard file.write(text) else { return false }
        limit = next
        unsynced = flag
        held = flag ? now : Held()
        journalThrough = flag ? journal : 0
        return true
    }

    private static func parse(_ text: String) -> (limit: UInt64, unsynced: Bool, held: Held, journalThrough: Int64)? {
        let words = text.trimmingSpaces.split(separator: " ")
        guard let first = words.first, let limit = UInt64(first) else { return nil }
        var held = Held()
        if let at = words.firstIndex(of: "held"), words.count > at + 2,
           let batches = UInt64(words[at + 1]), let events = UInt64(words[at + 2]) {
            held = Held(batches: batches, events: events)
        }
        var journal: Int64 = 0
        if let at = words.firstIndex(of: "journal"), words.count > at + 1, let id = Int64(words[at + 1]) { journal = id }
        return (limit, words.dropFirst().first == "unsynced", held, journal)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// The lease's bytes on disk: two 256-byte slots, each `lanegate-lease <generation> <text>
/// <checksum>`, written in turn in place and fsynced. A torn write spoils one slot only; the
/// reader takes the valid slot of the higher generation. The file is allocated whole when
/// created, so later writes need no free space. (A file of the older, one-line format is read
/// and replaced at the first write.)
struct LeaseFile {
    let path: String
    static let slotBytes = 256
    private var generation: UInt64 = 0

    init(path: String) { self.path = path }

    /// The newest valid text, or nil when there is none.
    mutating func read() -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 2 * Self.slotBytes)
        let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let slots = (0..<2).compactMap { i -> (UInt64, String)? in
            let start = i * Self.slotBytes
            guard count >= start + Self.slotBytes else { return nil }
            return Self.decode(bytes[start..<start + Self.slotBytes])
        }
        if let newest = slots.max(by: { $0.0 < $1.0 }) {
            generation = newest.0
            return newest.1
        }
        // The older format: one line of text, replaced at the next write.
        let text = String(decoding: bytes[..<count].prefix { $0 != 0 && $0 != 10 }, as: UTF8.self)
        return text.hasPrefix("lanegate-lease") ? nil : text
    }

    /// Writes `text` into the slot after the newest, in place, and waits for the disk.
    mutating func write(_ text: String) -> Bool {
        var fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0 || Self.isOldFormat(fd) {
            if fd >= 0 { close(fd) }
            fd = Self.create(path)
        }
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let next = generation + 1
        let slot = Self.encode(generation: next, text: text)
        guard slot.count == Self.slotBytes else { return false }
        let offset = off_t(Int(next % 2) * Self.slotBytes)
        let written = slot.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, offset) }
        guard written == Self.slotBytes, fdatasync(fd) == 0 else { return false }
        generation = next
        return true
    }

    /// A new file of both slots, zeroed, made whole on disk before it takes the old name.
    private static func create(_ path: String) -> Int32 {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return -1 }
        let zeros = [UInt8](repeating: 0, count: 2 * slotBytes)
        let written = zeros.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == zeros.count, fsync(fd) == 0, rename(temporary, path) == 0 else {
            close(fd)
            unlink(temporary)
            return -1
        }
        let directory = open(SequenceLease.directory(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
        return fd
    }

    private static func isOldFormat(_ fd: Int32) -> Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && Int(info.st_size) != 2 * slotBytes
    }

    static func encode(generation: UInt64, text: String) -> [UInt8] {
        let line = "lanegate-lease \(generation) \(text) "
        var bytes = Array(line.utf8)
        bytes += Array(String(checksum(bytes), radix: 16).utf8)
        bytes.append(10)
        guard bytes.count <= slotBytes else { return [] }
        return bytes + [UInt8](repeating: 0, count: slotBytes - bytes.count)
    }

    static func decode(_ slot: ArraySlice<UInt8>) -> (UInt64, String)? {
        let line = slot.prefix { $0 != 10 && $0 != 0 }
        guard let space = line.lastIndex(of: 32), let sum = UInt64(String(decoding: line[(space + 1)...], as: UTF8.self), radix: 16),
              sum == checksum(Array(line[...space])) else { return nil }
        let words = String(decoding: line[..<space], as: UTF8.self).split(separator: " ", maxSplits: 2)
        guard words.count == 3, words[0] == "lanegate-lease", let generation = UInt64(words[1]) else { return nil }
        return (generation, String(words[2]))
    }

    /// FNV-1a, 64 bits: enough to tell a torn or stale slot from a written one.
    static func checksum(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
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
