#if canImport(Glibc)
import Glibc
#endif
import CLibUSB
import LaneCore
import Synchronization

/// Which USB device a configured reader or receiver is.
public struct USBDeviceMatch: Sendable, Hashable, CustomStringConvertible {
    public var vendor: UInt16
    public var product: UInt16
    /// Required for generic adapter ids (a bare FTDI cable could be anything).
    public var serial: String?

    public init(vendor: UInt16, product: UInt16, serial: String? = nil) {
        self.vendor = vendor
        self.product = product
        self.serial = serial
    }

    public var description: String {
        hex4(vendor) + ":" + hex4(product) + (serial.map { " serial \($0)" } ?? "")
    }
}

/// A USB serial device driven through libusb, without the kernel's tty layer: FTDI adapters
/// (vendor requests for reset, baud, data format and latency; two status bytes stripped from
/// every IN packet) and CDC-ACM devices (data-interface bulk endpoints, line coding).
public final class USBSerialLink: ByteLink {
    public enum Kind: Sendable { case ftdi, cdcACM }

    public let name: String
    public let kind: Kind
    private var handle: OpaquePointer?
    private let dataInterface: Int32
    private let controlInterface: Int32
    private let inEndpoint: UInt8
    private let outEndpoint: UInt8
    private let maxPacket: Int
    private var packet = [UInt8](repeating: 0, count: 4096)

    public init(match: USBDeviceMatch, baud: Int, latencyMilliseconds: UInt8 = 2, detachKernelDriver: Bool = true) throws(LinkError) {
        let context = try USBContext.shared()
        name = "usb " + match.description
        let device = try Self.find(match, context: context)
        defer { libusb_unref_device(device.device) }
        handle = device.handle

        let layout = try Self.endpoints(of: device.device, name: name)
        kind = match.vendor == 0x0403 ? .ftdi : .cdcACM
        dataInterface = kind == .ftdi ? 0 : layout.data
        controlInterface = kind == .ftdi ? 0 : layout.control
        inEndpoint = layout.inEndpoint
        outEndpoint = layout.outEndpoint
        maxPacket = max(8, layout.maxPacket)

        if detachKernelDriver { libusb_set_auto_detach_kernel_driver(device.handle, 1) }
        for interface in Set([dataInterface, controlInterface]) {
            let status = libusb_claim_interface(device.handle, interface)
            guard status == 0 else {
                close()
                throw status == LIBUSB_ERROR_BUSY.rawValue
                    ? .busy("\(name) interface \(interface) (a kernel driver or another program holds it)")
                    : Self.error("claim interface \(interface) of \(name)", status)
            }
        }
        do throws(LinkError) {
            if kind == .ftdi {
                try ftdi(0, 0, "reset")                   // SIO reset
                try ftdi(2, 0, "flow control off")
                try ftdi(4, 8, "8N1")                     // 8 data bits, no parity, 1 stop bit
                try ftdi(9, UInt16(latencyMilliseconds), "latency timer")
            } else {
                try control(0x21, 0x22, 0x0003, [], "DTR/RTS on")  // SET_CONTROL_LINE_STATE
            }
            try setBaud(baud)
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    public func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Nanoseconds) throws(LinkError) -> Int {
        guard let handle else { throw .closed(name) }
        let end = MonotonicInstant.now().advanced(by: timeout)
        while true {
            let millis = UInt32(clamping: max(1, end.since(.now()) / 1_000_000))
            var transferred: Int32 = 0
            let want = min(packet.count, max(maxPacket, buffer.count / maxPacket * maxPacket))
            let status = packet.withUnsafeMutableBufferPointer {
                libusb_bulk_transfer(handle, inEndpoint, $0.baseAddress, Int32(want), &transferred, millis)
            }
            switch status {
            case 0, LIBUSB_ERROR_TIMEOUT.rawValue: break
            case LIBUSB_ERROR_NO_DEVICE.rawValue, LIBUSB_ERROR_IO.rawValue: throw .closed(name)
            case LIBUSB_ERROR_PIPE.rawValue: libusb_clear_halt(handle, inEndpoint)
            default: throw Self.error("read \(name)", status)
            }
            let count = copyPayload(Int(transferred), into: buffer)
            if count > 0 || MonotonicInstant.now() >= end { return count }
        }
    }

    /// FTDI chips start every IN packet with two modem-status bytes, even when there is no
    /// data (every latency period); CDC-ACM packets are all data.
    private func copyPayload(_ transferred: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var written = 0
        var offset = 0
        while offset < transferred {
            let end = min(offset + maxPacket, transferred)
            let start = kind == .ftdi ? offset + 2 : offset
            if start < end {
                let n = min(end - start, buffer.count - written)
                packet.withUnsafeBytes { source in
                    buffer.baseAddress!.advanced(by: written).copyMemory(from: source.baseAddress! + start, byteCount: n)
                }
                written += n
            }
            offset = end
        }
        return written
    }

    public func write(_ bytes: [UInt8]) throws(LinkError) {
        guard let handle else { throw .closed(name) }
        var data = bytes
        var offset = 0
        while offset < data.count {
            var transferred: Int32 = 0
            let status = data.withUnsafeMutableBufferPointer {
                libusb_bulk_transfer(handle, outEndpoint, $0.baseAddress! + offset, Int32($0.count - offset), &transferred, 1000)
            }
            switch status {
            case 0: offset += Int(transferred)
            case LIBUSB_ERROR_NO_DEVICE.rawValue, LIBUSB_ERROR_IO.rawValue: throw .closed(name)
            case LIBUSB_ERROR_TIMEOUT.rawValue: throw .timedOut("write to \(name)")
            default: throw Self.error("write \(name)", status)
            }
        }
    }

    public func setBaud(_ baud: Int) throws(LinkError) {
        guard baud > 0 else { throw .unsupportedBaud(baud) }
        if kind == .ftdi {
            let divisor = Self.ftdiDivisor(baud: baud)
            try control(0x40, 3, UInt16(divisor & 0xFFFF), [], "set baud \(baud)", index: UInt16(divisor >> 16))
        } else {
            // SET_LINE_CODING: rate u32 little-endian, 1 stop bit, no parity, 8 data bits.
            let rate = UInt32(baud)
            let coding: [UInt8] = [UInt8(rate & 0xFF), UInt8(rate >> 8 & 0xFF), UInt8(rate >> 16 & 0xFF), UInt8(rate >> 24), 0, 0, 8]
            try control(0x21, 0x20, 0, coding, "set line coding \(baud)")
        }
    }

    public func discardInput() {
        if kind == .ftdi { try? ftdi(0, 1, "purge RX") }
        var scratch = [UInt8](repeating: 0, count: 512)
        while ((try? read(into: &scratch, timeout: .milliseconds(5))) ?? 0) > 0 {}
    }

    public func close() {
        guard let open = handle else { return }
        handle = nil
        for interface in Set([dataInterface, controlInterface]) { libusb_release_interface(open, interface) }
        libusb_close(open)
    }

    /// The FT232R/BM divisor: 3 MHz over the baud in eighths, the fraction coded in bits 14–16.
    static func ftdiDivisor(baud: Int) -> UInt32 {
        let fractionCode: [UInt32] = [0, 3, 2, 4, 1, 5, 6, 7]
        let eighths = UInt32((24_000_000 + baud / 2) / baud)
        var divisor = eighths >> 3 | fractionCode[Int(eighths & 7)] << 14
        if divisor == 1 { divisor = 0 } else if divisor == 0x4001 { divisor = 1 }  // 3 MHz and 2 MHz specials
        return divisor
    }

    private func ftdi(_ request: UInt8, _ value: UInt16, _ what: String) throws(LinkError) {
        try control(0x40, request, value, [], what)
    }

    private func control(_ type: UInt8, _ request: UInt8, _ value: UInt16, _ data: [UInt8], _ what: String,
                         index: UInt16? = nil) throws(LinkError) {
        guard let handle else { throw .closed(name) }
        var payload = data
        let wIndex = index ?? UInt16(kind == .ftdi ? 0 : controlInterface)
        let status = payload.withUnsafeMutableBufferPointer {
            libusb_control_transfer(handle, type, request, value, wIndex, $0.baseAddress, UInt16($0.count), 1000)
        }
        guard status >= 0 else {
            throw status == LIBUSB_ERROR_NO_DEVICE.rawValue ? .closed(name) : Self.error("\(what) on \(name)", status)
        }
    }

    static func error(_ operation: String, _ status: Int32) -> LinkError {
        .usb(operation: operation, code: status, text: String(cString: libusb_strerror(status)))
    }
}

extension USBSerialLink {
    struct Found { var device: OpaquePointer; var handle: OpaquePointer }

    /// The first device with the ids (and serial, when given) that opens.
    static func find(_ match: USBDeviceMatch, context: OpaquePointer) throws(LinkError) -> Found {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = libusb_get_device_list(context, &list)
        guard count >= 0, let list else { throw error("list USB devices", Int32(count)) }
        defer { libusb_free_device_list(list, 1) }
        var lastError: LinkError = .notFound("USB device \(match)")
        for i in 0..<count {
            guard let device = list[i] else { continue }
            var descriptor = libusb_device_descriptor()
            guard libusb_get_device_descriptor(device, &descriptor) == 0,
                  descriptor.idVendor == match.vendor, descriptor.idProduct == match.product else { continue }
            var handle: OpaquePointer?
            let status = libusb_open(device, &handle)
            guard status == 0, let handle else {
                lastError = status == LIBUSB_ERROR_ACCESS.rawValue
                    ? .permissionDenied("USB device \(match) (is the udev rule installed, and the user in group lanegate?)")
                    : error("open USB device \(match)", status)
                continue
            }
            if let wanted = match.serial {
                var text = [UInt8](repeating: 0, count: 128)
                let n = libusb_get_string_descriptor_ascii(handle, descriptor.iSerialNumber, &text, Int32(text.count))
                guard n > 0, String(decoding: text.prefix(Int(n)), as: UTF8.self) == wanted else {
                    libusb_close(handle)
                    continue
                }
            }
            libusb_ref_device(device)
            return Found(device: device, handle: handle)
        }
        throw lastError
    }

    struct Endpoints { var data: Int32; var control: Int32; var inEndpoint: UInt8; var outEndpoint: UInt8; var maxPacket: Int }

    /// Bulk endpoints of the data interface (the first interface for FTDI, class 0x0A for CDC),
    /// and the CDC control interface (class 0x02) that takes line coding.
    static func endpoints(of device: OpaquePointer, name: String) throws(LinkError) -> Endpoints {
        var config: UnsafeMutablePointer<libusb_config_descriptor>?
        let status = libusb_get_active_config_descriptor(device, &config)
        guard status == 0, let config else { throw error("read configuration of \(name)", status) }
        defer { libusb_free_config_descriptor(config) }
        var found: Endpoints?
        var control: Int32?
        for i in 0..<Int(config.pointee.bNumInterfaces) {
            let interface = config.pointee.interface[i]
            guard interface.num_altsetting > 0 else { continue }
            let setting = interface.altsetting[0]
            if setting.bInterfaceClass == 0x02 { control = Int32(setting.bInterfaceNumber) }
            guard found == nil, setting.bInterfaceClass == 0x0A || setting.bInterfaceClass == 0xFF else { continue }
            var input: UInt8?, output: UInt8?, size = 64
            for e in 0..<Int(setting.bNumEndpoints) {
                let endpoint = setting.endpoint[e]
                guard endpoint.bmAttributes & 0x03 == 0x02 else { continue }  // bulk
                if endpoint.bEndpointAddress & 0x80 != 0 {
                    input = endpoint.bEndpointAddress
                    size = Int(endpoint.wMaxPacketSize)
                } else {
                    output = endpoint.bEndpointAddress
                }
            }
            if let input, let output {
                found = Endpoints(data: Int32(setting.bInterfaceNumber), control: 0, inEndpoint: input, outEndpoint: output, maxPacket: size)
            }
        }
        guard var endpoints = found else { throw .notFound("bulk endpoints on \(name)") }
        endpoints.control = control ?? endpoints.data
        return endpoints
    }
}

/// The process's one libusb context, created on first use, with a thread that handles libusb's
/// events so hotplug callbacks arrive.
enum USBContext {
    private static let context = Mutex<Int?>(nil)

    static func shared() throws(LinkError) -> OpaquePointer {
        let result: Result<OpaquePointer, LinkError> = context.withLock { stored in
            if let stored { return .success(OpaquePointer(bitPattern: stored)!) }
            var created: OpaquePointer?
            let status = libusb_init(&created)
            guard status == 0, let created else { return .failure(USBSerialLink.error("libusb_init", status)) }
            stored = Int(bitPattern: UnsafeRawPointer(created))
            USBHotplug.watch(created)
            return .success(created)
        }
        return try result.get()
    }
}

/// Counts USB device arrivals (libusb hotplug), so a supervisor waiting to retry an unplugged
/// reader tries again the moment something is plugged in, rather than at the end of its backoff.
public enum USBHotplug {
    private static let arrivals = Atomic<UInt64>(0)

    /// Grows by one for every USB device that appears. Zero, and never moving, where libusb
    /// has no hotplug support (the backoff alone then brings devices back).
    public static var generation: UInt64 { arrivals.load(ordering: .acquiring) }

    /// Opens libusb (if nothing has yet) so arrivals are watched from now on.
    public static func start() { _ = try? USBContext.shared() }

    static func watch(_ context: OpaquePointer) {
        guard libusb_has_capability(UInt32(LIBUSB_CAP_HAS_HOTPLUG.rawValue)) != 0 else { return }
        var handle: libusb_hotplug_callback_handle = 0
        let status = libusb_hotplug_register_callback(
            context, Int32(LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED.rawValue), 0,
            LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
            { _, _, _, _ in
                USBHotplug.arrivals.add(1, ordering: .releasing)
                return 0  // stay registered
            }, nil, &handle)
        guard status == 0 else { return }
        let address = Int(bitPattern: UnsafeRawPointer(context))
        _ = DedicatedThread(name: "usb-events") {
            let context = OpaquePointer(bitPattern: address)!
            while true {
                var timeout = timeval(tv_sec: 1, tv_usec: 0)
                libusb_handle_events_timeout_completed(context, &timeout, nil)
            }
        }
    }
}

func hex4(_ value: UInt16) -> String {
    let s = String(value, radix: 16)
    return String(repeating: "0", count: 4 - s.count) + s
}
