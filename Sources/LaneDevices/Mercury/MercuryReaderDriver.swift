import LaneCore
import Synchronization

/// How a Mercury-protocol reader is set up for a lane.
public struct MercuryReaderSettings: Sendable, Hashable {
    /// Tried first, twice; then the probe list.
    public var baud = 115_200
    public var probeBauds = [9600, 115_200, 921_600, 19200, 38400, 57600, 230_400, 460_800]
    public var region = MercuryRegion.na
    public var tagProtocol = MercuryTagProtocol.gen2
    /// Monostatic antenna ports to search.
    public var antennas: [UInt8] = [1]
    public var readPowerCentiDBm: UInt16 = 3000
    /// Length of each search cycle.
    public var onTimeMilliseconds: UInt16 = 250
    /// Keep response CRCs on (serial links). Off asks the reader to drop them, as the vendor's
    /// own software does over USB.
    public var responseCRC = true
    public var commandTimeout: Nanoseconds = .seconds(1)
    /// A streaming reader reports every cycle, even an empty one: this long with no frame is a loss.
    public var silenceTimeout: Nanoseconds = .seconds(5)

    public init() {}
}

/// The Mercury serial protocol driver (ThingMagic/JADAK M6e, Micro, USB Pro, Nano): finds the
/// baud, checks the firmware, configures region, protocol, antennas and power, then streams tag
/// reads with metadata until stopped or lost.
public struct MercuryReaderDriver: DeviceDriver {
    public var settings: MercuryReaderSettings
    /// Opens the link at a baud: a TTY, a USB serial adapter.
    public let open: @Sendable (Int) throws(LinkError) -> any ByteLink

    public init(settings: MercuryReaderSettings, open: @escaping @Sendable (Int) throws(LinkError) -> any ByteLink) {
        self.settings = settings
        self.open = open
    }

    public func session(_ context: DeviceContext) throws(DeviceError) {
        let link = try context.connect { () throws(LinkError) in try open(settings.baud) }
        defer { link.close() }
        var reader = MercuryLinkSession(link: link, context: context, settings: settings)

        let (version, baud) = try reader.findBaud()
        try reader.ensureApplication()
        try reader.stopReading()
        if !settings.responseCRC || reader.decoder.crcMode == .absent { try reader.setResponseCRC(settings.responseCRC) }
        guard version.supports(settings.tagProtocol) else {
            throw .rejected("\(version.model) does not support tag protocol \(settings.tagProtocol.name)")
        }
        _ = try reader.transact(.setRegion(settings.region))
        _ = try reader.transact(.setProtocol(settings.tagProtocol))
        _ = try reader.transact(.setAntennas(settings.antennas))
        _ = try reader.transact(.setReadPower(centiDBm: settings.readPowerCentiDBm))
        context.report(.configured, "\(version.model) firmware \(version.firmware) at \(baud) baud, region \(settings.region.name), "
                       + "\(settings.tagProtocol.name), antennas \(settings.antennas.map(String.init).joined(separator: ","))")

        try reader.stream()
        try? reader.stopReading()
    }
}

/// One connection's worth of state: the link, the decoder, the reader's clock.
struct MercuryLinkSession {
    let link: any ByteLink
    let context: DeviceContext
    let settings: MercuryReaderSettings
    var decoder = MercuryFrameDecoder()
    private var absorbed = DecodeCounters()
    private var scratch = [UInt8](repeating: 0, count: 4096)
    /// Counting decode errors starts once the baud is known: probing at the wrong baud is
    /// expected to see garbage.
    private var counting = false

    init(link: any ByteLink, context: DeviceContext, settings: MercuryReaderSettings) {
        self.link = link
        self.context = context
        self.settings = settings
    }

    /// Tries the configured baud twice (the second time with a leading `FF` to wake a sleeping
    /// module), once more for replies without a CRC, then the probe list; the first valid
    /// version reply fixes the baud. A module keeps its CRC setting until power-off: one an
    /// earlier session left without CRCs (then failed, or was killed) answers at the same baud.
    mutating func findBaud() throws(DeviceError) -> (MercuryVersion, Int) {
        var attempts = [(settings.baud, false, MercuryFrameDecoder.CRCMode.present), (settings.baud, true, .present),
                        (settings.baud, false, .absent)]
        attempts += settings.probeBauds.filter { $0 != settings.baud }.map { ($0, false, .present) }
        for (baud, wake, crcMode) in attempts {
            if context.shouldStop { throw .silent("stopping") }
            do throws(LinkError) {
                try link.setBaud(baud)
                link.discardInput()
                if wake { try link.write([0xFF]) }
            } catch {
                if case .unsupportedBaud = error { continue }
                throw .link(error)
            }
            decoder = MercuryFrameDecoder(crcMode: crcMode)
            do throws(DeviceError) {
                let reply = try transact(.getVersion, timeout: .milliseconds(300))
                if let version = MercuryVersion(reply.data) {
                    counting = true
                    absorbed = decoder.counters
                    return (version, baud)
                }
            } catch {
                if case .link = error { throw error }
            }
        }
        throw .noAnswer("no Mercury reader answered at any baud (\(attempts.count) tries)")
    }

    /// A module sitting in its bootloader is told to start the application.
    mutating func ensureApplication() throws(DeviceError) {
        let program = try transact(.getCurrentProgram)
        guard let current = program.data.first, current & 0x03 == 1 else { return }
        _ = try transact(.bootApplication, timeout: .seconds(3))
    }

    /// Stops continuous reading (left on by an earlier session or by auto-read at power-up) and
    /// drains tag frames until the reader confirms the stop.
    mutating func stopReading() throws(DeviceError) {
        try send(.stopContinuousRead)
        let deadline = MonotonicInstant.now().advanced(by: settings.commandTimeout * 2)
        while MonotonicInstant.now() < deadline {
            while let frame = decoder.next() {
                if frame.opcode == MercuryOpcode.multiProtocolSearch, frame.data.count >= 3, frame.data[2] == 0x02 { return }
            }
            try receive(timeout: deadline.since(.now()))
        }
        throw .noAnswer("reader did not confirm stopping its search")
    }

    /// Sets whether the module ends its responses with a CRC; the decoder follows. The reply to
    /// this command may come either way, and reading without a CRC takes both.
    mutating func setResponseCRC(_ on: Bool) throws(DeviceError) {
        decoder.crcMode = .absent
        _ = try transact(.sendResponseCRC(on))
        decoder.crcMode = on ? .present : .absent
    }

    /// Sends a command and waits for the reply with its opcode; stray tag frames are skipped.
    @discardableResult
    mutating func transact(_ command: MercuryCommand, timeout: Nanoseconds? = nil) throws(DeviceError) -> MercuryFrame {
        try send(command)
        let deadline = MonotonicInstant.now().advanced(by: timeout ?? settings.commandTimeout)
        while true {
            while let frame = decoder.next() {
                guard frame.opcode == command.opcode else { continue }
                guard frame.status == MercuryStatus.success else {
                    if counting { context.counters.deviceErrors.add(1, ordering: .relaxed) }
                    throw .rejected("opcode 0x\(String(command.opcode, radix: 16)): \(MercuryStatus.describe(frame.status))")
                }
                return frame
            }
            let left = deadline.since(.now())
            guard left > 0 else { throw .noAnswer("no reply to opcode 0x\(String(command.opcode, radix: 16))") }
            try receive(timeout: left)
        }
    }

    /// Starts continuous reading and turns tag records into detections until stopped or lost.
    mutating func stream() throws(DeviceError) {
        var clock = ReaderClock()
        var lastStamp: UInt32 = 0
        var wraps: Int64 = 0
        let searchStart = MonotonicInstant.now()
        try send(.startContinuousRead(onTimeMilliseconds: settings.onTimeMilliseconds))
        var lastFrame = MonotonicInstant.now()
        var reading = false
        let context = self.context
        while !context.shouldStop {
            let received = try receive(timeout: .milliseconds(200))
            let now = MonotonicInstant.now()
            // Frames are handled in place in the receive buffer: no allocation per tag.
            while let outcome = decoder.nextFrame({ opcode, status, data in
                Self.handleStreamFrame(opcode: opcode, status: status, data: data, context: context, received: now,
                                       searchStart: searchStart, clock: &clock, lastStamp: &lastStamp, wraps: &wraps)
            }) {
                lastFrame = now
                switch outcome {
                case .other: continue
                case .failed(let status):
                    context.counters.deviceErrors.add(1, ordering: .relaxed)
                    throw .rejected("search stopped: \(MercuryStatus.describe(status))")
                case .searching:
                    if !reading {
                        reading = true
                        context.report(.reading, "streaming, \(settings.onTimeMilliseconds) ms cycles")
                    }
                }
            }
            if received == 0 && decoder.pendingBytes > 0 { decoder.abandonPartialFrame() }
            // What decoding these bytes threw away is counted now, not at the next read.
            context.counters.absorb(decoder.counters, since: &absorbed)
            // Garbage keeps bytes coming without a single frame: that is silence too.
            if now.since(lastFrame) > settings.silenceTimeout {
                throw .silent("no valid frames for \(settings.silenceTimeout / 1_000_000_000) s")
            }
        }
    }

    enum StreamFrame { case searching, other, failed(UInt16) }

    /// One frame during the search: a tag record becomes a detection stamped by the reader's
    /// clock (mapped onto ours); status words say whether the search runs.
    private static func handleStreamFrame(opcode: UInt8, status: UInt16, data: ArraySlice<UInt8>, context: DeviceContext,
                                          received: MonotonicInstant, searchStart: MonotonicInstant, clock: inout ReaderClock,
                                          lastStamp: inout UInt32, wraps: inout Int64) -> StreamFrame {
        guard opcode == MercuryOpcode.readTagMultiple else { return .other }
        switch status {
        case MercuryStatus.success: break
        case MercuryStatus.noTagsFound: return .searching
        default: return .failed(status)
        }
        let message: MercuryStreamMessage
        do throws(MercuryRecordError) { message = try .parse(data) } catch {
            context.counters.badRecords.add(1, ordering: .relaxed)
            return .searching
        }
        guard case .tag(let record) = message else { return .searching }
        var time = received
        if let stamp = record.timestampMilliseconds {
            if stamp < lastStamp && lastStamp &- stamp > 1 << 31 { wraps += 1 }
            lastStamp = stamp
            let readerNanos = (wraps << 32 + Int64(stamp)) * 1_000_000
            time = clock.map(reader: searchStart.nanoseconds + readerNanos, received: received)
        }
        context.emit(.tag(TagRead(tag: record.epc, antenna: record.antenna, rssi: record.rssi,
                                  readerMicros: record.timestampMilliseconds.map { Int64($0) * 1000 })), at: time)
        return .searching
    }

    mutating func send(_ command: MercuryCommand) throws(DeviceError) {
        do throws(LinkError) { try link.write(command.frame) } catch { throw .link(error) }
    }

    /// Reads once into the decoder; returns the byte count (0 on timeout).
    @discardableResult
    mutating func receive(timeout: Nanoseconds) throws(DeviceError) -> Int {
        let n: Int
        do throws(LinkError) {
            n = try link.read(into: &scratch, timeout: timeout)
        } catch { throw .link(error) }
        if n > 0 {
            decoder.append(scratch[0..<n])
            context.counters.bytesIn.add(UInt64(n), ordering: .relaxed)
        }
        if counting { context.counters.absorb(decoder.counters, since: &absorbed) }
        return n
    }
}
