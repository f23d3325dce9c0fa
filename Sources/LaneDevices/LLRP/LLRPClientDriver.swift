#if canImport(Glibc)
import Glibc
#endif
import LaneCore
import Synchronization

public struct LLRPClientSettings: Sendable, Hashable {
    public var host: String
    public var port: UInt16 = 5084
    /// Antenna ids to inventory; empty means all.
    public var antennas: [UInt16] = []
    /// The reader reports after this many tags ("upon N tags"): small, so reads are timely.
    public var reportEvery: UInt16 = 1
    public var keepalivePeriod: Nanoseconds = .seconds(10)
    /// This many keepalive periods with nothing from the reader: the link is dead.
    public var missedKeepalives = 2
    public var responseTimeout: Nanoseconds = .seconds(5)
    public var roSpecID: UInt32 = 1234

    public init(host: String) { self.host = host }
}

/// An LLRP 1.0.1 client for fixed network readers: waits for the reader to accept the
/// connection, reads its capabilities, asks for keepalives, clears old ROSpecs, installs and
/// starts one ROSpec, then streams tag reports, answering keepalives, until stopped or the link
/// dies. It ends every session it was admitted to with the CLOSE_CONNECTION exchange, whether
/// it stops or fails, unless the reader closed first or the link is gone.
///
/// Tolerant where the standard and common practice are: a reader may answer the cleanup step
/// (DELETE_ROSPEC of every ROSpec, when it has none) with an error status, which is reported
/// and passed over, as widely used clients do.
public struct LLRPClientDriver: DeviceDriver {
    public var settings: LLRPClientSettings
    public let open: @Sendable () throws(LinkError) -> any ByteLink

    public init(settings: LLRPClientSettings, open: (@Sendable () throws(LinkError) -> any ByteLink)? = nil) {
        self.settings = settings
        self.open = open ?? Self.tcp(host: settings.host, port: settings.port)
    }

    static func tcp(host: String, port: UInt16) -> @Sendable () throws(LinkError) -> any ByteLink {
        { () throws(LinkError) -> any ByteLink in try TCPLink(host: host, port: port) }
    }

    public func session(_ context: DeviceContext) throws(DeviceError) {
        let link = try context.connect(open)
        defer { link.close() }
        var connection = LLRPConnection(link: link, context: context, settings: settings)

        let attempt = try connection.awaitConnectionAttempt()
        guard attempt == 0 else {
            throw .rejected("reader refused the connection (ConnectionAttemptEvent status \(attempt): another client holds it)")
        }
        do throws(DeviceError) {
            try configureAndStream(&connection, context)
            connection.closeConnection()
        } catch {
            if case .link = error {} else { connection.closeConnection() }
            throw error
        }
    }

    private func configureAndStream(_ connection: inout LLRPConnection, _ context: DeviceContext) throws(DeviceError) {
        let capabilities = try connection.request(LLRPRequests.getReaderCapabilities(id: connection.nextID()))
        let caps: (antennas: UInt16, manufacturer: UInt32, model: UInt32, firmware: String)
        do throws(LLRPDecodeError) { caps = try LLRPReports.capabilities(in: capabilities.body) } catch {
            throw .protocolViolation("capabilities: \(error)")
        }
        let keepaliveMillis = UInt32(clamping: settings.keepalivePeriod / 1_000_000)
        _ = try connection.request(LLRPRequests.setKeepalive(id: connection.nextID(), periodMilliseconds: keepaliveMillis))
        let cleared = try connection.request(LLRPRequests.deleteROSpec(id: connection.nextID()), cleanup: true)
        if let cleanup = try? LLRPReports.status(in: cleared.body), cleanup.code != 0 {
            context.report(.connected, "reader answered DELETE_ROSPEC (all) with LLRP status \(cleanup.code) \(cleanup.text): nothing to clear, going on")
        }
        _ = try connection.request(LLRPRequests.addROSpec(id: connection.nextID(), roSpecID: settings.roSpecID,
                                                          antennas: settings.antennas, reportEvery: settings.reportEvery))
        _ = try connection.request(LLRPRequests.enableROSpec(id: connection.nextID(), roSpecID: settings.roSpecID))
        _ = try connection.request(LLRPRequests.startROSpec(id: connection.nextID(), roSpecID: settings.roSpecID))
        context.report(.configured, "LLRP reader model \(caps.model) (maker \(caps.manufacturer)), firmware \(caps.firmware), \(caps.antennas) antennas")
        context.report(.reading, "inventory running (ROSpec \(settings.roSpecID))")

        try connection.stream()
    }
}

struct LLRPConnection {
    let link: any ByteLink
    let context: DeviceContext
    let settings: LLRPClientSettings
    private var decoder = LLRPMessageDecoder()
    private var scratch = [UInt8](repeating: 0, count: 16384)
    private var lastID: UInt32 = 0
    private var lastHeard = MonotonicInstant.now()
    private var clock = ReaderClock()
    /// The reader's clock offset is reported with the first timestamped report.
    private var clockReported = false
    /// The reader announced it is closing (ConnectionCloseEvent): no goodbye is owed.
    private var readerClosed = false
    /// Saying goodbye: reading goes on though a stop was asked for.
    private var closing = false

    init(link: any ByteLink, context: DeviceContext, settings: LLRPClientSettings) {
        self.link = link
        self.context = context
        self.settings = settings
    }

    mutating func nextID() -> UInt32 {
        lastID &+= 1
        return lastID
    }

    /// The READER_EVENT_NOTIFICATION a reader sends first, with its ConnectionAttemptEvent status.
    mutating func awaitConnectionAttempt() throws(DeviceError) -> UInt16 {
        let deadline = MonotonicInstant.now().advanced(by: settings.responseTimeout)
        while MonotonicInstant.now() < deadline && !context.shouldStop {
            guard let message = try receive(until: deadline) else { continue }
            if message.type == LLRPMessageType.readerEventNotification {
                do throws(LLRPDecodeError) {
                    if let status = try LLRPReports.connectionAttempt(in: message.body) { return status }
                } catch { throw .protocolViolation("reader event: \(error)") }
            } else {
                try handleUnsolicited(message)
            }
        }
        throw .noAnswer("reader sent no ConnectionAttemptEvent")
    }

    /// Sends a request and waits for its response (same id), handling reports and keepalives
    /// that arrive meanwhile; a response with a non-zero LLRPStatus is a rejection, unless the
    /// request is a `cleanup` step, whose status the caller reads from the reply to report it.
    @discardableResult
    mutating func request(_ message: LLRPMessage, cleanup: Bool = false) throws(DeviceError) -> LLRPMessage {
        try send(message)
        let expected = LLRPMessageType.response(to: message.type)
        let deadline = MonotonicInstant.now().advanced(by: settings.responseTimeout)
        while MonotonicInstant.now() < deadline && !context.shouldStop {
            guard let reply = try receive(until: deadline) else { continue }
            if reply.id == message.id && (reply.type == expected || reply.type == LLRPMessageType.errorMessage) {
                let status: (code: UInt16, text: String)
                do throws(LLRPDecodeError) { status = try LLRPReports.status(in: reply.body) } catch {
                    throw .protocolViolation("response to message type \(message.type): \(error)")
                }
                guard status.code == 0 || cleanup else {
                    context.counters.deviceErrors.add(1, ordering: .relaxed)
                    throw .rejected("message type \(message.type): LLRP status \(status.code) \(status.text)")
                }
                return reply
            }
            try handleUnsolicited(reply)
        }
        throw .noAnswer("no response to LLRP message type \(message.type)")
    }

    /// Reports and keepalives until stopped, or until the reader has been silent for
    /// `missedKeepalives` keepalive periods.
    mutating func stream() throws(DeviceError) {
        let deadAfter = settings.keepalivePeriod * Int64(settings.missedKeepalives) + settings.keepalivePeriod / 2
        while !context.shouldStop {
            if let message = try receive(until: MonotonicInstant.now().advanced(by: .milliseconds(200))) {
                try handleUnsolicited(message)
            }
            if MonotonicInstant.now().since(lastHeard) > deadAfter {
                throw .silent("no keepalive or report for \(deadAfter / 1_000_000_000) s")
            }
        }
    }

    /// CLOSE_CONNECTION, then up to a second for its response (reports meanwhile still count).
    mutating func closeConnection() {
        guard !readerClosed, (try? send(LLRPRequests.closeConnection(id: nextID()))) != nil else { return }
        closing = true
        let deadline = MonotonicInstant.now().advanced(by: .seconds(1))
        while MonotonicInstant.now() < deadline {
            guard let reply = try? receive(until: deadline) else { return }
            if reply.type == LLRPMessageType.closeConnectionResponse { return }
            try? handleUnsolicited(reply)
        }
    }

    mutating func handleUnsolicited(_ message: LLRPMessage) throws(DeviceError) {
        switch message.type {
        case LLRPMessageType.readerEventNotification:
            // Antenna, buffer and ROSpec events may come at any moment; only a close matters here.
            if (try? LLRPReports.connectionClose(in: message.body)) == true {
                readerClosed = true
                throw .link(.closed("the LLRP reader (ConnectionCloseEvent)"))
            }
        case LLRPMessageType.keepalive:
            try send(LLRPRequests.keepaliveAck(id: message.id))
        case LLRPMessageType.roAccessReport:
            let now = MonotonicInstant.now()
            var unreadable = 0
            let tags: [LLRPTagReport]
            do throws(LLRPDecodeError) { tags = try LLRPReports.tags(in: message.body, unreadable: &unreadable) } catch {
                context.counters.badRecords.add(1, ordering: .relaxed)
                return
            }
            if unreadable > 0 { context.counters.badRecords.add(UInt64(unreadable), ordering: .relaxed) }
            for tag in tags { emit(tag, received: now) }
        case LLRPMessageType.errorMessage:
            context.counters.deviceErrors.add(1, ordering: .relaxed)
        default:
            break  // reader events, responses to nothing pending: nothing to do
        }
    }

    private mutating func emit(_ tag: LLRPTagReport, received: MonotonicInstant) {
        var time = received
        if let utc = tag.firstSeenUTC ?? tag.lastSeenUTC {
            let readerNanos = Int64(clamping: utc) &* 1000
            time = clock.map(reader: readerNanos, received: received)
            if !clockReported {
                var now = timespec()
                clock_gettime(CLOCK_REALTIME, &now)
                let hostMicros = Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
                let offset = Double(hostMicros - Int64(clamping: utc)) / 1e6
                clockReported = true
                context.report(.reading, "reports flowing; reader clock \(offset >= 0 ? "behind" : "ahead of") UTC by \(formatSeconds(abs(offset)))")
            }
        }
        let antenna = UInt8(clamping: tag.antenna ?? 0)
        context.emit(.tag(TagRead(tag: tag.epc, antenna: antenna, rssi: tag.peakRSSI ?? 0,
                                  readerMicros: tag.firstSeenUTC.map { Int64(clamping: $0) })), at: time)
    }

    mutating func send(_ message: LLRPMessage) throws(DeviceError) {
        do throws(LinkError) { try link.write(message.bytes) } catch { throw .link(error) }
    }

    /// The next whole message, or nil at `deadline` (or after one empty read).
    mutating func receive(until deadline: MonotonicInstant) throws(DeviceError) -> LLRPMessage? {
        while true {
            do throws(LLRPDecodeError) {
                if let message = try decoder.next() {
                    lastHeard = .now()
                    context.counters.frames.add(1, ordering: .relaxed)
                    return message
                }
            } catch { throw .protocolViolation(error.description) }
            // Short waits, so a stop request is noticed within 200 ms even mid-handshake.
            let left = min(deadline.since(.now()), .milliseconds(200))
            guard left > 0, closing || !context.shouldStop else { return nil }
            let n: Int
            do throws(LinkError) {
                n = try link.read(into: &scratch, timeout: left)
            } catch { throw .link(error) }
            guard n > 0 else { return nil }
            decoder.append(scratch[0..<n])
            context.counters.bytesIn.add(UInt64(n), ordering: .relaxed)
        }
    }
}

func formatSeconds(_ seconds: Double) -> String {
    if seconds >= 86400 * 365 { return "\(Int(seconds / (86400 * 365.25))) years" }
    if seconds >= 86400 { return "\(Int(seconds / 86400)) days" }
    let tenths = Int((seconds * 10).rounded())
    return "\(tenths / 10).\(tenths % 10) s"
}
