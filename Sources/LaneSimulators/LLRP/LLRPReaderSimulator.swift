#if canImport(Glibc)
import Glibc
#endif
import LaneCore
import Synchronization

/// A fixed UHF reader speaking LLRP 1.0.1 on a loopback TCP port, conforming enough for any
/// LLRP client: it announces each connection with a ConnectionAttemptEvent (refusing a second
/// client while one is connected) and answers every mandatory reader-side message. An ROSpec
/// runs by its triggers (Null with START_ROSPEC, Immediate, Periodic; a Duration stop), reports
/// by its ROReportSpec (upon N tags, at the end of its AISpec or ROSpec, or on GET_REPORT) with
/// the fields its content selector asks for, and announces its start and end as ROSpecEvents
/// when the client has those events on. AccessSpecs are refused honestly (it does not execute
/// access operations). Keepalives go at the period the client asks for. Reports carry a vendor
/// extension the client must skip. Its clock can be set wrong, and it can hang or drop the
/// client. Its ``Quirks`` copy what real readers do that a client must live with.
public final class LLRPReaderSimulator: Sendable {
    public struct Counts: Sendable, Hashable {
        public var connections = 0
        public var refused = 0
        public var keepalivesSent = 0
        public var keepaliveAcks = 0
        public var reports = 0
        public var started = 0
        /// ROSpecs that ended by their stop trigger (a duration).
        public var stoppedByTrigger = 0
        /// Every message type the clients sent, in order.
        public var received: [UInt16] = []
        /// Connections hung up on for a message length no message can have.
        public var malformed = 0
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

    struct Read: Sendable {
        var tag: TagID
        var antenna: UInt16
        var rssi: Int8
        var at: MonotonicInstant
    }

    struct State: Sendable {
        /// Tags read while no ROSpec runs wait in the field: a tag that stays is inventoried once
        /// one starts.
        var field: [Read] = []
        /// Inventoried, not yet reported.
        var pending: [Read] = []
        var rospec: SimulatedROSpec?
        var keepalive: Nanoseconds?
        var nextKeepalive = MonotonicInstant.zero
        /// Reader event types the client wants (LLRP §16.2.6.2): ROSpec and AISpec events by default.
        var events: Set<UInt16> = [2, 6]
        /// The reader's default ROReportSpec, for an ROSpec without one: every tag, with
        /// antenna, peak RSSI, first and last seen and seen count.
        var defaultReport: (trigger: UInt8, n: UInt16, selector: UInt16) = (1, 1, 0x1780)
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
    let state = Mutex(State())
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
                        let field = state.field
                        state = State()
                        state.counts = counts
                        state.field = field
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
                    return (header(notification(LLRPWire.tlv(257, []))), true)
                }
                if state.hung { input.removeAll(); return ([], false) }
                return respond(to: &input, &state)
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

    /// The reader's answer to the whole messages of `input` (consumed), and whether it then
    /// hangs up.
    private func respond(to input: inout [UInt8], _ state: inout State) -> (out: [UInt8], close: Bool) {
        var out: [UInt8] = []
        while true {
            let cut: (type: UInt16, version: UInt8, id: UInt32, body: [UInt8])?
            do throws(LLRPWire.BadLength) { cut = try LLRPWire.cut(&input) } catch {
                // As a reader does with a length it cannot believe: say so, and hang up.
                input.removeAll()
                state.counts.malformed += 1
                let text = "message length \(error.length) is outside 10...\(LLRPWire.maxClientMessage)"
                return (out + LLRPWire.message(100, 0, LLRPWire.status(101, text)), true)
            }
            guard let message = cut else { break }
            state.counts.received.append(message.type)
            var reply: [UInt8]
            if message.version != 1 && message.version != 2 {
                reply = LLRPWire.message(100, message.id, LLRPWire.status(110, "LLRP version \(message.version) is not supported"))
            } else if quirks.refusing.contains(message.type) {
                reply = LLRPWire.message(message.type + 10, message.id, LLRPWire.status(101, "refused by quirk"))
            } else {
                reply = answer(message, &state)
            }
            if quirks.eventsBeforeResponses && !reply.isEmpty {
                out += notification(LLRPWire.tlv(255, [1] + LLRPWire.u16(1)))  // AntennaEvent: antenna 1 connected
            }
            out += reply
        }
        out += run(&state)
        return (out, false)
    }

    /// What the reader answers a fresh client that sends `bytes`, without a socket or this
    /// reader's own session: the way in for the fuzz target of what clients send.
    public func answer(freshClientSending bytes: [UInt8]) -> (reply: [UInt8], hungUp: Bool) {
        var input = bytes
        var state = State()
        let (reply, close) = respond(to: &input, &state)
        return (reply, close)
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

    /// A READER_EVENT_NOTIFICATION carrying `event` with the reader's timestamp.
    func notification(_ event: [UInt8]) -> [UInt8] {
        LLRPWire.message(63, 0, LLRPWire.tlv(246, LLRPWire.tlv(128, LLRPWire.u64(UInt64(max(0, utcNow())))) + event))
    }

    func utcNow() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000 + clockOffsetMicros
    }
}
