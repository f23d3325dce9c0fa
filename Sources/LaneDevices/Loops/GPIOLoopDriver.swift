#if canImport(Glibc)
import Glibc
#endif
import CGPIOD
import LaneCore

public struct GPIOLoopSettings: Sendable, Hashable {
    public enum Bias: String, Sendable, Hashable, CaseIterable {
        case asIs = "as-is", pullUp = "pull-up", pullDown = "pull-down", disabled
    }
    /// `gpiochip0`, `/dev/gpiochip0`, a chip label, or a number.
    public var chip: String
    public var lines: [UInt16]
    /// Detector cards usually pull the input low while they call.
    public var activeLow = true
    public var bias = Bias.asIs
    public var consumer = "lanegate"

    public init(chip: String, lines: [UInt16]) {
        self.chip = chip
        self.lines = lines
    }
}

/// Loop detector inputs through the kernel GPIO character device (libgpiod v1): both-edge
/// events, stamped by the kernel (CLOCK_MONOTONIC), not by when the daemon got round to
/// reading them. Debounce and presence/pulse logic live in the pipeline.
public struct GPIOLoopDriver: DeviceDriver {
    public var settings: GPIOLoopSettings

    public init(settings: GPIOLoopSettings) {
        self.settings = settings
    }

    public func session(_ context: DeviceContext) throws(DeviceError) {
        guard let chip = gpiod_chip_open_lookup(settings.chip) else {
            let code = errno
            switch code {
            case ENOENT, ENODEV: throw .link(.notFound("GPIO chip \(settings.chip)"))
            case EACCES, EPERM:
                throw .link(.permissionDenied("GPIO chip \(settings.chip) (is the udev rule installed, and the user in group lanegate?)"))
            default: throw .link(.system(operation: "open GPIO chip \(settings.chip)", errno: code))
            }
        }
        defer { gpiod_chip_close(chip) }
        let chipName = String(cString: gpiod_chip_name(chip))
        context.report(.connected, "\(chipName) (\(String(cString: gpiod_chip_label(chip)))), \(gpiod_chip_num_lines(chip)) lines")

        var bulk = gpiod_line_bulk()
        var offsets = settings.lines.map { UInt32($0) }
        guard gpiod_chip_get_lines(chip, &offsets, UInt32(offsets.count), &bulk) == 0 else {
            throw .rejected("\(chipName) has no line \(settings.lines.map(String.init).joined(separator: "/")) (it has \(gpiod_chip_num_lines(chip)))")
        }
        var request = gpiod_line_request_config()
        var flags: Int32 = 0
        if settings.activeLow { flags |= Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) }
        switch settings.bias {
        case .asIs: break
        case .pullUp: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
        case .pullDown: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
        case .disabled: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE)
        }
        let requested: Int32 = settings.consumer.withCString { consumer in
            request.consumer = consumer
            request.request_type = Int32(GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES)
            request.flags = flags
            return gpiod_line_request_bulk(&bulk, &request, nil)
        }
        guard requested == 0 else {
            let code = errno
            throw code == EBUSY ? .link(.busy("\(chipName) lines \(settings.lines) (held by another consumer)"))
                : .link(.system(operation: "request \(chipName) lines", errno: code))
        }
        defer { gpiod_line_release_bulk(&bulk) }

        // The level at start: a vehicle already over a loop is a call in progress.
        var values = [Int32](repeating: 0, count: offsets.count)
        guard gpiod_line_get_value_bulk(&bulk, &values) == 0 else {
            throw .link(.system(operation: "read \(chipName) lines", errno: errno))
        }
        let start = MonotonicInstant.now()
        for (i, line) in settings.lines.enumerated() {
            context.emit(.loop(LoopEdge(line: line, occupied: values[i] != 0)), at: start)
        }
        context.report(.reading, "\(chipName) lines \(settings.lines.map(String.init).joined(separator: ","))"
                       + (settings.activeLow ? " active-low" : ""))

        var ready = gpiod_line_bulk()
        var events = [gpiod_line_event](repeating: gpiod_line_event(), count: 16)
        while !context.shouldStop {
            var timeout = timespec(tv_sec: 0, tv_nsec: 200_000_000)
            lanegate_gpiod_bulk_reset(&ready)
            let status = gpiod_line_event_wait_bulk(&bulk, &timeout, &ready)
            if status < 0 {
                if errno == EINTR { continue }
                throw .link(errno == ENODEV ? .closed(chipName) : .system(operation: "wait for \(chipName) events", errno: errno))
            }
            guard status > 0 else { continue }
            for i in 0..<lanegate_gpiod_bulk_count(&ready) {
                guard let line = lanegate_gpiod_bulk_line(&ready, i) else { continue }
                let offset = UInt16(gpiod_line_offset(line))
                let count = gpiod_line_event_read_multiple(line, &events, UInt32(events.count))
                guard count >= 0 else { throw .link(.system(operation: "read \(chipName) line \(offset) events", errno: errno)) }
                context.counters.frames.add(UInt64(count), ordering: .relaxed)
                for event in events.prefix(Int(count)) {
                    let kernelTime = MonotonicInstant(nanoseconds: Int64(event.ts.tv_sec) * 1_000_000_000 + Int64(event.ts.tv_nsec))
                    // With active-low requested, the kernel already reports edges in logical terms.
                    let occupied = event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE)
                    context.emit(.loop(LoopEdge(line: offset, occupied: occupied)), at: kernelTime)
                }
            }
        }
    }
}
