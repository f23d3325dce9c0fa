#if canImport(Glibc)
import Glibc
#endif
import CGPIOLines
import LaneCore
import Synchronization

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

/// Loop detector inputs through the kernel GPIO character device (libgpiod 1 or 2, whichever
/// the build found): both-edge events, stamped by the kernel (CLOCK_MONOTONIC), not by when the
/// daemon got round to reading them. Debounce and presence/pulse logic live in the pipeline.
public struct GPIOLoopDriver: DeviceDriver {
    public var settings: GPIOLoopSettings

    public init(settings: GPIOLoopSettings) {
        self.settings = settings
    }

    public func session(_ context: DeviceContext) throws(DeviceError) {
        var info = lanegate_gpio_chip_info()
        guard let chip = lanegate_gpio_chip_open(settings.chip, &info) else {
            let code = errno
            switch code {
            case ENOENT, ENODEV: throw .link(.notFound("GPIO chip \(settings.chip)"))
            case EACCES, EPERM:
                throw .link(.permissionDenied("GPIO chip \(settings.chip) (is the udev rule installed, and the user in group lanegate?)"))
            default: throw .link(.system(operation: "open GPIO chip \(settings.chip)", errno: code))
            }
        }
        defer { lanegate_gpio_chip_close(chip) }
        let chipName = GPIOChipText.string(info.name)
        context.report(.connected, "\(chipName) (\(GPIOChipText.string(info.label))), \(info.num_lines) lines")

        let lineList = settings.lines.map(String.init).joined(separator: "/")
        guard settings.lines.allSatisfy({ UInt32($0) < info.num_lines }) else {
            throw .rejected("\(chipName) has no line \(lineList) (it has \(info.num_lines))")
        }
        let offsets = settings.lines.map { UInt32($0) }
        guard let lines = settings.consumer.withCString({ consumer in
            lanegate_gpio_request(chip, offsets, UInt32(offsets.count), settings.activeLow ? 1 : 0, settings.bias.c, consumer)
        }) else {
            let code = errno
            throw code == EBUSY ? .link(.busy("\(chipName) lines \(settings.lines) (held by another consumer)"))
                : .link(.system(operation: "request \(chipName) lines \(lineList)", errno: code))
        }
        defer { lanegate_gpio_release(lines) }

        // The level at start: a vehicle already over a loop is a call in progress.
        var values = [Int32](repeating: 0, count: offsets.count)
        guard lanegate_gpio_values(lines, &values) == 0 else {
            throw .link(.system(operation: "read \(chipName) lines", errno: errno))
        }
        let start = MonotonicInstant.now()
        for (i, line) in settings.lines.enumerated() {
            context.emit(.loop(LoopEdge(line: line, occupied: values[i] != 0)), at: start)
        }
        context.report(.reading, "\(chipName) lines \(settings.lines.map(String.init).joined(separator: ","))"
                       + (settings.activeLow ? " active-low" : ""))

        var edges = [lanegate_gpio_edge](repeating: lanegate_gpio_edge(), count: 16)
        while !context.shouldStop {
            let count = lanegate_gpio_read_edges(lines, 200_000_000, &edges, UInt32(edges.count))
            if count < 0 {
                if errno == EINTR { continue }
                throw .link(errno == ENODEV ? .closed(chipName) : .system(operation: "wait for \(chipName) events", errno: errno))
            }
            context.counters.frames.add(UInt64(count), ordering: .relaxed)
            for edge in edges.prefix(Int(count)) {
                let kernelTime = MonotonicInstant(nanoseconds: Int64(truncatingIfNeeded: edge.timestamp_ns))
                context.emit(.loop(LoopEdge(line: UInt16(truncatingIfNeeded: edge.offset), occupied: edge.rising != 0)), at: kernelTime)
            }
        }
    }
}

extension GPIOLoopSettings.Bias {
    var c: lanegate_gpio_bias {
        switch self {
        case .asIs: LANEGATE_GPIO_BIAS_AS_IS
        case .pullUp: LANEGATE_GPIO_BIAS_PULL_UP
        case .pullDown: LANEGATE_GPIO_BIAS_PULL_DOWN
        case .disabled: LANEGATE_GPIO_BIAS_DISABLED
        }
    }
}

/// The fixed-size C strings of `lanegate_gpio_chip_info`.
enum GPIOChipText {
    static func string<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
