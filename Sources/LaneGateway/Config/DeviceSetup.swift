import LaneCore
import LaneDevices

/// How the gateway reaches one configured device and how its driver is set up: the part of a
/// `[[devices]]` entry beyond its name and kind.
public enum DeviceSetup: Sendable {
    /// A Mercury-protocol reader on a serial line.
    case mercury(MercuryReaderSettings, SerialTransport)
    /// A network reader speaking LLRP.
    case llrp(LLRPClientSettings)
    /// An e-seal receiver on a serial line.
    case eseal(ESealReceiverSettings, SerialTransport)
    /// Loop inputs on GPIO lines (which lines: the lanes' loops on this device).
    case gpioLoops(GPIOLoopSettings)
    /// Loop inputs from a simulated card in the same process (`lanegate demo`): edges since
    /// the last call. Never from a configuration file.
    case simulatedLoops(@Sendable () -> [InProcessLoopDriver.Edge])

    /// A serial device: a tty path (a udev symlink such as `/dev/lanegate/rfid-lane1`), or a USB
    /// adapter driven through libusb.
    public enum SerialTransport: Sendable, Hashable {
        case tty(String)
        case usb(USBDeviceMatch)
    }
}

extension DeviceSetup.SerialTransport {
    /// Opens the transport at a baud; what the drivers are handed.
    public var opener: @Sendable (Int) throws(LinkError) -> any ByteLink {
        switch self {
        case .tty(let path):
            { baud throws(LinkError) in try TTYLink(path: path, baud: baud) }
        case .usb(let match):
            { baud throws(LinkError) in try USBSerialLink(match: match, baud: baud) }
        }
    }

    public var description: String {
        switch self {
        case .tty(let path): path
        case .usb(let match): "usb " + match.description
        }
    }
}

extension DeviceSetup {
    /// The driver for this setup.
    public var driver: any DeviceDriver {
        switch self {
        case .mercury(let settings, let transport): MercuryReaderDriver(settings: settings, open: transport.opener)
        case .llrp(let settings): LLRPClientDriver(settings: settings)
        case .eseal(let settings, let transport): ESealReceiverDriver(settings: settings, open: transport.opener)
        case .gpioLoops(let settings): GPIOLoopDriver(settings: settings)
        case .simulatedLoops(let poll): InProcessLoopDriver(label: "simulated loop card", poll: poll)
        }
    }

    /// What ends a retry's wait early: a USB device appearing, for USB devices.
    public var wake: (@Sendable () -> UInt64)? {
        switch self {
        case .mercury(_, .usb), .eseal(_, .usb): { USBHotplug.generation }
        default: nil
        }
    }
}

extension DeviceSupervisor {
    /// Starts every device the configuration gives a transport, each into its ring (one per
    /// device, in the configuration's order); the counters of each started device, nil for one
    /// without a transport. USB devices get hotplug wake-ups, so a replugged one is back at once.
    public func start(config: GatewayConfig, rings: [SPSCRing<Detection>]) -> [DeviceCounters?] {
        config.layout.devices.enumerated().map { i, device in
            guard let setup = config.deviceSetups[i] else { return nil }
            if setup.wake != nil { USBHotplug.start() }
            return start(setup.driver, index: DeviceIndex(UInt16(i)), name: device.name, ring: rings[i], wake: setup.wake)
        }
    }
}
