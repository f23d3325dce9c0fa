#if canImport(Glibc)
import Glibc
#endif
import LaneCore
import Synchronization

/// A fixed UHF reader speaking LLRP 1.0.1 on a loopback TCP port: announces each connection
/// with a ConnectionAttemptEvent (refusing a second client while one is connected), answers
/// capabilities, config and ROSpec requests, sends keepalives at the period the client asks
/// for, and reports the tags in its field as RO_ACCESS_REPORTs with a vendor extension the
/// client must skip. Its clock can be set wrong, and it can hang or drop the client. Its
/// ``Quirks`` copy what real readers do that a client must live with.
public final class LLRPReaderSimulator: Sendable {
    public struct Counts: Sendable, Hashable {
        public var connections = 0
        public var refused = 0
        public var keepalivesSent = 0
        public var keepaliveAcks = 0
        public var reports = 0
        public var started = 0
        /// Every message type the clients sent, in order.
        public var received: [UInt16] = []
        /// The start trigger type (0 null, 1 immediate, 2 periodic, 3 GPI) of the last ADD_ROSPEC.
        public var startTrigger: UInt8?
    }

    /// What real readers do that the standard allows, or that clients meet in the field anyway.
    public struct Quirks: Sendable, Hashable {
        /// Answer DELETE_ROSPEC of every ROSpec (id 0) with this status when none is installed,
        /// as some readers and emulators do (100: M_ParameterError); 0 answers success.
        public var deleteAllWhenEmpty: UInt16 = 0
        /// The header version of everything sent: 1 (LLRP 1.0.1) or 2 (LLRP 1.1).
        public var version: UInt16 = 1
        /// A READER_EVENT_NOTIFICATION (an antenna event) before every response.
        public var eventsBeforeResponses = false
        /// Refuse START_ROSPEC for a ROSpec whose start trigger already started it (Immediate),
        /// as a strict reader may.
        public var strictStart = false
        /// Message types answered with an error status (101, M_FieldError), as a reader does
        /// with a request it dislikes.
        public var refusing: Set<UInt16> = []

        public init() {}
    }

    private struct Read: Sendable {
        var tag: TagID
        var antenna: UInt16
        var rssi: Int8
        var at: MonotonicInstant
    }

    private struct State: Sendable {
        var field: [Read] = []
        var keepalive: Nanoseconds?
        var nextKeepalive = MonotonicInstant.zero
        var added = false, enabled = false, started = false
        var immediate = false
        var hung = false
        var drop = false
        var announceClose = false
        var counts = Counts()
        var messageID: UInt32 = 1000
    }

    public let listener: TCPListener
    /// Microseconds added to true UTC in every timestamp the reader sends (a reader whose clock
    /// was never set sits decades back).
    public let clockOffsetMicros: Int64
    public let quirks: Quirks
    private let state = Mutex(State())
    private let running = Atomic<Bool>(true)
    private let thread = Mutex<DedicatedThread?>(nil)

    public init(port: UInt16 = 0, clockOffsetMicros: Int64 = 0, quirks: Quirks = Quirks()) throws(SimulatorError) {
        listener = try TCPListener(port: port)
        self.clockOffsetMicros = clockOffsetMicros
        self.quirks = quirks
        let started = DedicatedThread(name: "sim-llrp") { [self] in serve() }
        thread.withLock { $0 = started }
    }

    public var port: UInt16 { listener.port }

    public func stop() {
        running.store(false, ordering: .releasing)
        thread.withLock { $0 }?.join()
    }

    public func read(_ tag: TagID, antenna: UInt16, rssi: Int8, at time: MonotonicInstant = .now()) {
        state.withLock { $0.field.append(Read(tag: tag, antenna: antenna, rssi: rssi, at: time)) }
    }

    /// Goes silent (no keepalives, reports or answers) while `hung`: a dead link as the client sees it.
    public func hang(_ hung: Bool) { state.withLock { $0.hung = hung } }
    /// Closes the current client's connection.
    public func dropClient() { state.withLock { $0.drop = true } }
    /// Announces a close (a ConnectionCloseEvent), then closes the connection, as a reader
    /// going down for a firmware update does.
    public func closeClient() { state.withLock { $0.announceClose = true } }
    public var counts: Counts { state.withLock { $0.counts } }

    private func serve() {
        var client: TCPPeer?
        var input: [UInt8] = []
        while running.load(ordering: .acquiring) {
            if let newcomer = listener.accept(timeout: client == nil ? .milliseconds(20) : .zero) {
                if client?.isOpen == true {
                    newcomer.write(header(LLRPWire.connectionEvent(status: 2, id: 0, utcMicros: utcNow())))  // a client is connected
                    newcomer.close()
                    state.withLock { $0.counts.refused += 1 }
                } else {
                    client = newcomer
                    input.removeAll()
                    state.withLock { state in
                        let counts = state.counts
                        state = State()
                        state.counts = counts
                        state.counts.connections += 1
                    }
                    newcomer.write(header(LLRPWire.connectionEvent(status: 0, id: 0, utcMicros: utcNow())))
                }
            }
            guard let peer = client, peer.isOpen else { client = nil; continue }
            guard let bytes = peer.read(timeout: .milliseconds(10)) else { client = nil; continue }
            input += bytes
            let (out, close) = state.withLock { state -> ([UInt8], Bool) in
                if state.drop { state.drop = false; return ([], true) }
                if state.announceClose {
                    state.announceClose = false
                    return (header(LLRPWire.message(63, 0, LLRPWire.tlv(246, LLRPWire.tlv(128, LLRPWire.u64(UInt64(max(0, utcNow()))))
                                                                    + LLRPWire.tlv(257, [])))), true)
                }
                if state.hung { input.removeAll(); return ([], false) }
                var out: [UInt8] = []
                while let message = LLRPWire.cut(&input) {
                    state.counts.received.append(message.type)
                    let reply = quirks.refusing.contains(message.type)
                        ? LLRPWire.message(message.type + 10, message.id, LLRPWire.status(101, "refused by quirk"))
                        : answer(message, &state)
                    if quirks.eventsBeforeResponses && !reply.isEmpty {
                        // AntennaEvent (255): antenna 1 connected.
                        out += LLRPWire.message(63, 0, LLRPWire.tlv(246, LLRPWire.tlv(128, LLRPWire.u64(UInt64(max(0, utcNow()))))
                                                              + LLRPWire.tlv(255, [1] + LLRPWire.u16(1))))
                    }
                    out += reply
                }
                out += periodic(&state)
                return (out, false)
            }
            if close {
                peer.write(header(out))
                peer.close()
                client = nil
                continue
            }
            peer.write(header(out))
        }
        client?.close()
    }

    private func answer(_ m: (type: UInt16, id: UInt32, body: [UInt8]), _ state: inout State) -> [UInt8] {
        let ok = LLRPWire.status(0)
        switch m.type {
        case 1:
            let firmware = Array("7.5.0-sim".utf8)
            let caps = LLRPWire.tlv(137, LLRPWire.u16(4) + LLRPWire.u16(0x4000) + LLRPWire.u32(LLRPWire.enterpriseNumber) + LLRPWire.u32(2_001_002)
                                    + LLRPWire.u16(UInt16(firmware.count)) + firmware)
            return LLRPWire.message(11, m.id, ok + caps)
        case 3:
            // KeepaliveSpec (220): type u8 (1 = periodic), period u32 ms, after the 1-byte reset flag.
            if let spec = LLRPWire.find(220, in: Array(m.body.dropFirst())), spec.count >= 5, spec[0] == 1 {
                let millis = spec[1...4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                state.keepalive = Nanoseconds(millis) * 1_000_000
                state.nextKeepalive = MonotonicInstant.now().advanced(by: state.keepalive!)
            }
            return LLRPWire.message(13, m.id, ok)
        case 21:
            let all = m.body.count >= 4 && m.body.prefix(4).allSatisfy { $0 == 0 }
            let had = state.added
            state.added = false; state.enabled = false; state.started = false
            if all && !had && quirks.deleteAllWhenEmpty != 0 {
                return LLRPWire.message(31, m.id, LLRPWire.status(quirks.deleteAllWhenEmpty, "no ROSpec 0"))
            }
            return LLRPWire.message(31, m.id, ok)
        case 20:
            let spec = LLRPWire.find(177, in: m.body)
            state.added = spec != nil
            // ROSpec: id u32, priority u8, state u8, then ROBoundarySpec (178) › ROSpecStartTrigger (179).
            let trigger = spec.flatMap { LLRPWire.find(178, in: Array($0.dropFirst(6))) }.flatMap { LLRPWire.find(179, in: $0) }?.first
            state.counts.startTrigger = trigger
            state.immediate = trigger == 1
            return LLRPWire.message(30, m.id, state.added ? ok : LLRPWire.status(101, "ROSpec missing"))
        case 24:
            state.enabled = state.added
            if state.enabled && state.immediate {
                state.started = true
                state.counts.started += 1
            }
            return LLRPWire.message(34, m.id, state.enabled ? ok : LLRPWire.status(101, "no such ROSpec"))
        case 22:
            if state.started && quirks.strictStart {
                return LLRPWire.message(32, m.id, LLRPWire.status(101, "ROSpec already active"))
            }
            state.started = state.enabled
            if state.started { state.counts.started += 1 }
            return LLRPWire.message(32, m.id, state.started ? ok : LLRPWire.status(101, "ROSpec not enabled"))
        case 72:
            state.counts.keepaliveAcks += 1
            return []
        case 14:
            state.drop = true
            return LLRPWire.message(4, m.id, ok)
        case 64:
            return []
        default:
            return LLRPWire.message(100, m.id, LLRPWire.status(109, "unsupported message"))  // M_UnsupportedMessage
        }
    }

    private func periodic(_ state: inout State) -> [UInt8] {
        var out: [UInt8] = []
        let now = MonotonicInstant.now()
        if let period = state.keepalive, now >= state.nextKeepalive {
            state.nextKeepalive = now.advanced(by: period)
            state.messageID &+= 1
            out += LLRPWire.message(62, state.messageID, [])
            state.counts.keepalivesSent += 1
        }
        guard state.started, !state.field.isEmpty else { return out }
        let reads = state.field
        state.field.removeAll()
        var body: [UInt8] = []
        let utc = utcNow()
        for read in reads {
            let seen = UInt64(utc - now.since(read.at) / 1000)
            let epc = read.tag.bytes
            var fields = epc.count == 12 ? [0x80 | 13] + epc : LLRPWire.tlv(241, LLRPWire.u16(UInt16(epc.count * 8)) + epc)
            fields += [0x80 | 1] + LLRPWire.u16(read.antenna) + [0x80 | 6, UInt8(bitPattern: read.rssi)]
            fields += [0x80 | 2] + LLRPWire.u64(seen) + [0x80 | 4] + LLRPWire.u64(seen) + [0x80 | 8] + LLRPWire.u16(1)
            fields += LLRPWire.tlv(1023, LLRPWire.u32(LLRPWire.enterpriseNumber) + LLRPWire.u32(1) + [0xDE, 0xAD])  // vendor extension
            body += LLRPWire.tlv(240, fields)
        }
        state.messageID &+= 1
        state.counts.reports += 1
        return out + LLRPWire.message(61, state.messageID, body)
    }

    /// Rewrites the version bits of every message header in `bytes` to the quirk's version.
    private func header(_ bytes: [UInt8]) -> [UInt8] {
        guard quirks.version != 1 else { return bytes }
        var out = bytes
        var i = 0
        while i + 10 <= out.count {
            out[i] = (out[i] & 0xE3) | UInt8((quirks.version & 0x7) << 2)
            let length = Int(out[(i + 2)...(i + 5)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard length >= 10 else { break }
            i += length
        }
        return out
    }

    private func utcNow() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000 + clockOffsetMicros
    }
}

/// The reader's side of LLRP encoding, kept apart from the client's codec.
public enum LLRPWire {
    /// The simulator's maker number: 32473, the private enterprise number RFC 5612 reserves
    /// for documentation, so it is no real company's.
    public static let enterpriseNumber: UInt32 = 32473

    public static func message(_ type: UInt16, _ id: UInt32, _ body: [UInt8]) -> [UInt8] {
        u16(1 << 10 | type) + u32(UInt32(10 + body.count)) + u32(id) + body
    }

    public static func tlv(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
        u16(type) + u16(UInt16(4 + value.count)) + value
    }

    static func status(_ code: UInt16, _ text: String = "") -> [UInt8] {
        let bytes = Array(text.utf8)
        return tlv(287, u16(code) + u16(UInt16(bytes.count)) + bytes)
    }

    static func connectionEvent(status: UInt16, id: UInt32, utcMicros: Int64) -> [UInt8] {
        message(63, id, tlv(246, tlv(128, u64(UInt64(max(0, utcMicros)))) + tlv(256, u16(status))))
    }

    /// The value of the first top-level TLV of `type` in `body`.
    static func find(_ type: UInt16, in body: [UInt8]) -> [UInt8]? {
        var i = 0
        while i + 4 <= body.count {
            let t = (UInt16(body[i]) << 8 | UInt16(body[i + 1])) & 0x3FF
            let length = Int(UInt16(body[i + 2]) << 8 | UInt16(body[i + 3]))
            guard length >= 4, i + length <= body.count else { return nil }
            if t == type { return Array(body[(i + 4)..<(i + length)]) }
            i += length
        }
        return nil
    }

    static func cut(_ input: inout [UInt8]) -> (type: UInt16, id: UInt32, body: [UInt8])? {
        guard input.count >= 10 else { return nil }
        let length = Int(input[2...5].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard length >= 10 else { input.removeAll(); return nil }
        guard input.count >= length else { return nil }
        let type = (UInt16(input[0]) << 8 | UInt16(input[1])) & 0x3FF
        let id = input[6...9].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let body = Array(input[10..<length])
        input.removeFirst(length)
        return (type, id, body)
    }

    static func u16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func u32(_ v: UInt32) -> [UInt8] { u16(UInt16(v >> 16)) + u16(UInt16(v & 0xFFFF)) }
    static func u64(_ v: UInt64) -> [UInt8] { u32(UInt32(v >> 32)) + u32(UInt32(v & 0xFFFF_FFFF)) }
}
