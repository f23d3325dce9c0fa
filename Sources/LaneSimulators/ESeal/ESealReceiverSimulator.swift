#if canImport(Glibc)
import Glibc
#endif
import LaneCore
import Synchronization

/// The receiver side of the e-seal link over a serial line: a heartbeat every second, a SEAL_REPORT for
/// every seal it hears, GET_STATUS and SET_TIME answered. It can hang (heartbeats stop), be
/// unplugged and replugged, report its own errors, and babble.
public final class ESealReceiverSimulator: Sendable {
    public struct Counts: Sendable, Hashable {
        public var heartbeats = 0
        public var reports = 0
        public var timeSets = 0
        public var statusRequests = 0
        public var badFrames = 0
    }

    private struct State: Sendable {
        var outgoing: [UInt8] = []
        var nextHeartbeat = MonotonicInstant.zero
        var hung = false
        var clockSet = false
        var receiverUTC: UInt32 = 0
        var counts = Counts()
        var bootTime = MonotonicInstant.now()
    }

    public let line: any SerialLine
    private let state = Mutex(State())
    private let running = Atomic<Bool>(true)
    private let thread = Mutex<DedicatedThread?>(nil)

    /// Serves on a fresh pty reachable at `link`.
    public convenience init(link: String) throws(SimulatorError) {
        self.init(line: try PseudoTerminal(link: link))
    }

    public init(line: any SerialLine) {
        self.line = line
        let started = DedicatedThread(name: "sim-eseal") { [self] in serve() }
        thread.withLock { $0 = started }
    }

    public func stop() {
        running.store(false, ordering: .releasing)
        thread.withLock { $0 }?.join()
        line.unplug()
    }

    /// The receiver hears a seal.
    public func hear(_ report: SealReport) {
        let p = report
        var payload = ESealWire.u16(p.seal.manufacturer) + ESealWire.u32(p.seal.tag) + [p.status.rawValue]
        payload += ESealWire.u16(p.eventCount) + ESealWire.u32(p.eventTime) + [UInt8(bitPattern: p.rssi), p.antenna]
        state.withLock {
            $0.outgoing += ESealWire.frame(type: 0x01, payload: payload)
            $0.counts.reports += 1
        }
    }

    /// The receiver reports a fault of its own (1 radio, 2 overflow, 3 clock not set).
    public func fail(code: UInt8) {
        state.withLock { $0.outgoing += ESealWire.frame(type: 0x03, payload: [code]) }
    }

    /// Stops (or resumes) everything, heartbeats included: a hung receiver.
    public func hang(_ hung: Bool) { state.withLock { $0.hung = hung } }

    public func babble(_ bytes: [UInt8]) { state.withLock { $0.outgoing += bytes } }

    public func unplug() {
        line.unplug()
        state.withLock { $0 = State() }
    }

    public func replug() throws(SimulatorError) { try line.plug() }

    public var counts: Counts { state.withLock { $0.counts } }
    /// The UTC seconds the host set, nil before any SET_TIME.
    public var clock: UInt32? { state.withLock { $0.clockSet ? $0.receiverUTC : nil } }

    private func serve() {
        var input: [UInt8] = []
        var lastByte = MonotonicInstant.now()
        while running.load(ordering: .acquiring) {
            let bytes = line.read(timeout: .milliseconds(10))
            if !bytes.isEmpty {
                input += bytes
                lastByte = MonotonicInstant.now()
            } else if !input.isEmpty, MonotonicInstant.now().since(lastByte) > .milliseconds(100) {
                // A line quiet for 100 ms ends any partial frame, as a UART's idle timeout does: a
                // bogus header (the echo of our own heartbeat before the driver set raw mode) may
                // claim 255 bytes, and waiting for them would swallow the driver's real frames.
                input.removeFirst()
                lastByte = MonotonicInstant.now()
            }
            let out: [UInt8] = state.withLock { state in
                while let frame = ESealWire.cut(&input, bad: &state.counts.badFrames) { answer(frame, &state) }
                let now = MonotonicInstant.now()
                if state.hung { state.outgoing.removeAll(); return [] }
                if now >= state.nextHeartbeat {
                    state.nextHeartbeat = now.advanced(by: .seconds(1))
                    let uptime = UInt32(now.since(state.bootTime) / 1_000_000_000)
                    state.outgoing += ESealWire.frame(type: 0x02, payload: [0x01, 0x04] + ESealWire.u32(uptime) + [UInt8(bitPattern: -97)])
                    state.counts.heartbeats += 1
                }
                defer { state.outgoing.removeAll() }
                return state.outgoing
            }
            line.write(out)
        }
    }

    private func answer(_ frame: (type: UInt8, payload: [UInt8]), _ state: inout State) {
        switch frame.type {
        case 0x81:
            state.counts.statusRequests += 1
            state.nextHeartbeat = .zero  // the status message is the heartbeat's; send one now
        case 0x82 where frame.payload.count == 4:
            state.receiverUTC = frame.payload.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            state.clockSet = true
            state.counts.timeSets += 1
        default:
            state.counts.badFrames += 1
        }
    }
}

/// The receiver's side of the e-seal framing, kept apart from the driver's codec.
public enum ESealWire {
    /// CRC-16/CCITT-FALSE, bit by bit.
    public static func crc(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? crc << 1 ^ 0x1021 : crc << 1 }
        }
        return crc
    }

    public static func frame(type: UInt8, payload: [UInt8]) -> [UInt8] {
        let body = [UInt8(payload.count + 1), type] + payload
        let value = crc(body)
        return [0xAA, 0x55] + body + [UInt8(value >> 8), UInt8(value & 0xFF)]
    }

    static func cut(_ input: inout [UInt8], bad: inout Int) -> (type: UInt8, payload: [UInt8])? {
        while true {
            guard let start = input.firstIndex(of: 0xAA) else { input.removeAll(); return nil }
            input.removeFirst(start)
            guard input.count >= 3 else { return nil }
            let length = Int(input[2])
            guard input[1] == 0x55, length >= 1 else { input.removeFirst(); continue }
            guard input.count >= 5 + length else { return nil }
            guard crc(input[2..<(3 + length)]) == UInt16(input[3 + length]) << 8 | UInt16(input[4 + length]) else {
                bad += 1
                input.removeFirst()
                continue
            }
            let frame = (input[3], Array(input[4..<(3 + length)]))
            input.removeFirst(5 + length)
            return frame
        }
    }

    static func u16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func u32(_ v: UInt32) -> [UInt8] { u16(UInt16(v >> 16)) + u16(UInt16(v & 0xFFFF)) }
}
