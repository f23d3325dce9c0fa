import LaneCore
import Synchronization

/// The reader side of the Mercury serial protocol over a serial line (a pty, or a socket behind
/// an emulated USB adapter): answers the connect flow (version, program, region, protocol,
/// antennas, power, CRC setting, baud), and while a search runs, streams the tags placed in its
/// field as metadata records, one search cycle at a time. On a pty it only hears the host at its
/// own baud; it starts in the bootloader or in auto-read if asked, and can be unplugged,
/// replugged and made to babble.
///
/// Written from the protocol description, independently of the driver's codec, so the two
/// check each other.
public final class MercuryReaderSimulator: Sendable {
    public struct Options: Sendable {
        public var baud = 115_200
        /// hardware[0]: 0x30 Nano, 0x18 M6e, 0x20 Micro.
        public var model: UInt8 = 0x30
        public var firmware: [UInt8] = [0x01, 0x0B, 0x01, 0x02]
        public var startsInBootloader = false
        /// Left in auto-read at power-up: streams before anyone asks.
        public var streamingAtPowerUp = false
        /// Left without response CRCs by an earlier session (the setting holds until power-off).
        public var responseCRC = true
        public init() {}
    }

    public struct Counts: Sendable, Hashable {
        public var commands = 0
        public var tagFrames = 0
        public var searches = 0
        public var ignoredAtWrongBaud = 0
    }

    private struct Read: Sendable {
        var tag: TagID
        var antenna: UInt8
        var rssi: Int8
        var at: MonotonicInstant
    }

    private struct State: Sendable {
        var baud: Int
        var inBootloader: Bool
        var responseCRC = true
        var streaming = false
        var metadata: UInt16 = 0x0017
        var searchFlags: UInt16 = 0x0008
        var onTime: Nanoseconds = .milliseconds(250)
        var searchStart = MonotonicInstant.zero
        var nextCycle = MonotonicInstant.zero
        var field: [Read] = []
        var outgoing: [UInt8] = []
        var counts = Counts()
        var region: UInt8 = 0
        var tagProtocol: UInt16 = 0
        /// The ports set with 0x91; empty until then, when every port reads.
        var antennaPorts: [UInt8] = []
    }

    public let line: any SerialLine
    private let options: Options
    private let state: Mutex<State>
    private let running = Atomic<Bool>(true)
    private let thread = Mutex<DedicatedThread?>(nil)

    /// Serves on a fresh pty reachable at `link`.
    public convenience init(link: String, options: Options = Options()) throws(SimulatorError) {
        self.init(line: try PseudoTerminal(link: link), options: options)
    }

    public init(line: any SerialLine, options: Options = Options()) {
        self.line = line
        self.options = options
        var initial = State(baud: options.baud, inBootloader: options.startsInBootloader)
        if options.streamingAtPowerUp { initial.streaming = true }
        initial.responseCRC = options.responseCRC
        state = Mutex(initial)
        let started = DedicatedThread(name: "sim-mercury") { [self] in serve() }
        thread.withLock { $0 = started }
    }

    /// Stops serving and removes the pty.
    public func stop() {
        running.store(false, ordering: .releasing)
        thread.withLock { $0 }?.join()
        line.unplug()
    }

    /// A read of `tag` at `antenna`, reported in the current search cycle.
    public func read(_ tag: TagID, antenna: UInt8, rssi: Int8, at time: MonotonicInstant = .now()) {
        state.withLock { $0.field.append(Read(tag: tag, antenna: antenna, rssi: rssi, at: time)) }
    }

    /// Noise on the line: bytes that are no frame.
    public func babble(_ bytes: [UInt8]) {
        state.withLock { $0.outgoing += bytes }
    }

    /// Pulls the cable: the pty goes away, and the module loses power (state resets).
    public func unplug() {
        line.unplug()
        state.withLock { state in
            state = State(baud: options.baud, inBootloader: options.startsInBootloader)
            state.streaming = options.streamingAtPowerUp
        }
    }

    public func replug() throws(SimulatorError) { try line.plug() }

    public var counts: Counts { state.withLock { $0.counts } }
    public var isStreaming: Bool { state.withLock { $0.streaming } }
    public var sendsResponseCRC: Bool { state.withLock { $0.responseCRC } }

    private func serve() {
        var input: [UInt8] = []
        while running.load(ordering: .acquiring) {
            let bytes = line.read(timeout: .milliseconds(10))
            let atRightBaud = line.driverBaud.map { $0 == state.withLock { $0.baud } } ?? true
            if !bytes.isEmpty {
                if atRightBaud {
                    input += bytes
                } else {
                    // A UART at the wrong speed hears noise and answers nothing sensible.
                    state.withLock { $0.counts.ignoredAtWrongBaud += 1 }
                    line.write([0x00, 0xF0, 0x1E])
                }
            }
            while let command = Self.cutCommand(&input) { handle(command) }
            let out: [UInt8] = state.withLock { state in
                if state.streaming { emitCycles(&state) }
                defer { state.outgoing.removeAll() }
                return state.outgoing
            }
            line.write(out)
        }
    }

    /// `FF LEN OP DATA CRC`: a bad CRC is ignored, as a module does, and so is a length no
    /// frame has (over 0xF8): the lone `FF` a host sends to wake a module is followed by its
    /// command's own `FF`, which must not be read as a length of 255.
    private static func cutCommand(_ input: inout [UInt8]) -> (opcode: UInt8, data: [UInt8])? {
        while true {
            guard let start = input.firstIndex(of: 0xFF) else { input.removeAll(); return nil }
            input.removeFirst(start)
            guard input.count >= 2 else { return nil }
            let length = Int(input[1])
            guard length <= 0xF8 else {
                input.removeFirst()
                continue
            }
            guard input.count >= 5 + length else { return nil }
            let crc = UInt16(input[3 + length]) << 8 | UInt16(input[4 + length])
            guard MercuryWire.crc(input[1..<(3 + length)]) == crc else {
                input.removeFirst()
                continue
            }
            let command = (input[2], Array(input[3..<(3 + length)]))
            input.removeFirst(5 + length)
            return command
        }
    }

    private func handle(_ command: (opcode: UInt8, data: [UInt8])) {
        state.withLock { state in
            state.counts.commands += 1
            let data = command.data
            var status: UInt16 = 0
            var reply: [UInt8] = []
            var newBaud: Int?
            switch command.opcode {
            case 0x03:
                reply = [0x14, 0x01, 0x02, 0x00] + [options.model, 0x00, 0x00, 0x01] + [0x20, 0x24, 0x03, 0x15]
                    + options.firmware + [0x10, 0x00, 0x00, 0x10]  // Gen2 (bit 4) and ATA (bit 28)
            case 0x0C: reply = [state.inBootloader ? 0x01 : 0x02]
            case 0x04: state.inBootloader = false
            case _ where state.inBootloader: status = 0x0101  // the bootloader knows only the above
            case 0x06:
                if data.count == 4 {
                    newBaud = Int(data.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
                } else { status = 0x0100 }
            case 0x97:
                if data.count == 1, [0x01, 0x0D, 0x0E, 0xFF].contains(data[0]) { state.region = data[0] } else { status = 0x010B }
            case 0x93:
                if data.count == 2 { state.tagProtocol = UInt16(data[0]) << 8 | UInt16(data[1]) } else { status = 0x0100 }
            case 0x91:
                // `tx rx`, or option 2 with a search list of pairs.
                if data.count == 2 {
                    state.antennaPorts = [data[0]]
                } else if data.first == 0x02, data.count >= 3, data.count % 2 == 1 {
                    state.antennaPorts = stride(from: 1, to: data.count, by: 2).map { data[$0] }
                } else { status = 0x0100 }
            case 0x92: if data.isEmpty { status = 0x0100 }
            case 0x9A:
                if data.count == 3, data[0] == 0x01, data[1] == 0x1B { state.responseCRC = data[2] != 0 }
            case 0x22:
                guard data.count >= 7, data[0] & 0x10 != 0 else { status = 0x0105; break }
                state.searchFlags = UInt16(data[1]) << 8 | UInt16(data[2])
                state.onTime = Nanoseconds(UInt16(data[3]) << 8 | UInt16(data[4])) * 1_000_000
                state.metadata = UInt16(data[5]) << 8 | UInt16(data[6])
                state.streaming = true
                state.searchStart = .now()
                state.nextCycle = state.searchStart.advanced(by: state.onTime)
                state.counts.searches += 1
                return  // no immediate reply: the stream is the answer
            case 0x2F:
                if data == [0x00, 0x00, 0x02] {
                    state.streaming = false
                    reply = [0x00, 0x00, 0x02]
                } else { status = 0x0105 }
            default: status = 0x0101
            }
            state.outgoing += MercuryWire.response(opcode: command.opcode, status: status, data: reply, crc: state.responseCRC)
            if let newBaud { state.baud = newBaud }
        }
    }

    /// Every finished search cycle reports the reads in it, or "no tags found".
    private func emitCycles(_ state: inout State) {
        let now = MonotonicInstant.now()
        guard now >= state.nextCycle else { return }
        state.nextCycle = now.advanced(by: state.onTime)
        // As a module does: search flags 0x0003 walk the search list; otherwise only the
        // configured port (the list's first) transmits.
        let ports = state.searchFlags & 0x0003 == 0x0003 ? state.antennaPorts : Array(state.antennaPorts.prefix(1))
        let reads = state.field.filter { ports.isEmpty || ports.contains($0.antenna) }
        state.field.removeAll()
        if reads.isEmpty {
            state.outgoing += MercuryWire.response(opcode: 0x22, status: 0x0400, data: [], crc: state.responseCRC)
            return
        }
        for read in reads {
            let millis = UInt32(clamping: max(0, read.at.since(state.searchStart)) / 1_000_000)
            let record = MercuryWire.tagRecord(read.tag, antenna: read.antenna, rssi: read.rssi, timestamp: millis,
                                               metadata: state.metadata, searchFlags: state.searchFlags)
            state.outgoing += MercuryWire.response(opcode: 0x22, status: 0, data: record, crc: state.responseCRC)
            state.counts.tagFrames += 1
        }
    }
}
