#if canImport(Glibc)
import Glibc
#endif
import LaneCore
import Synchronization

public struct ESealReceiverSettings: Sendable, Hashable {
    public var baud = 115_200
    /// No heartbeat for this long: the receiver is gone (reported, reconnected).
    public var heartbeatTimeout: Nanoseconds = .seconds(3)
    public init() {}
}

/// The e-seal receiver driver: sets the receiver's clock on connect, asks for its status, then
/// turns seal reports into detections and watches the once-a-second heartbeat.
public struct ESealReceiverDriver: DeviceDriver {
    public var settings: ESealReceiverSettings
    public let open: @Sendable (Int) throws(LinkError) -> any ByteLink

    public init(settings: ESealReceiverSettings, open: @escaping @Sendable (Int) throws(LinkError) -> any ByteLink) {
        self.settings = settings
        self.open = open
    }

    public func session(_ context: DeviceContext) throws(DeviceError) {
        let link = try context.connect { () throws(LinkError) in try open(settings.baud) }
        defer { link.close() }
        var decoder = ESealFrameDecoder()
        var absorbed = DecodeCounters()
        var scratch = [UInt8](repeating: 0, count: 2048)

        func send(_ frame: ESealFrame) throws(DeviceError) {
            do throws(LinkError) { try link.write(frame.bytes) } catch { throw .link(error) }
        }
        try send(.setTime(utcSeconds: UInt32(clamping: time(nil))))
        try send(.getStatus)

        var lastHeartbeat = MonotonicInstant.now()
        var state: DeviceState = .connected
        while !context.shouldStop {
            let n: Int
            do throws(LinkError) {
                n = try link.read(into: &scratch, timeout: .milliseconds(200))
            } catch { throw .link(error) }
            let now = MonotonicInstant.now()
            if n > 0 {
                decoder.append(scratch[0..<n])
                context.counters.bytesIn.add(UInt64(n), ordering: .relaxed)
            } else if decoder.pendingBytes > 0 {
                decoder.abandonPartialFrame()
            }
            while let frame = decoder.next() {
                let message: ESealMessage
                do throws(ESealMessage.DecodeError) { message = try ESealMessage(frame) } catch {
                    context.counters.badRecords.add(1, ordering: .relaxed)
                    continue
                }
                switch message {
                case .seal(let report):
                    context.emit(.seal(report), at: now)
                case .status(let firmware, let uptime, let noise):
                    lastHeartbeat = now
                    if state != .reading {
                        state = .reading
                        context.report(.reading, "receiver firmware \(firmware >> 8).\(firmware & 0xFF), up \(uptime) s, noise \(noise) dBm")
                    }
                case .error(let error):
                    context.counters.deviceErrors.add(1, ordering: .relaxed)
                    state = .error
                    context.report(.error, "receiver reports \(error)")
                    // The receiver forgot its clock (a power blip): set it again.
                    if error.code == 3 { try send(.setTime(utcSeconds: UInt32(clamping: time(nil)))) }
                case .unknown:
                    context.counters.badRecords.add(1, ordering: .relaxed)
                }
            }
            context.counters.absorb(decoder.counters, since: &absorbed)
            if now.since(lastHeartbeat) > settings.heartbeatTimeout {
                throw .silent("no heartbeat for \(settings.heartbeatTimeout / 1_000_000) ms")
            }
        }
    }
}
