#if canImport(Glibc)
import Glibc
#endif
import CGPIOLines
import CLibUSB
import LaneCore

/// What is plugged into this machine, as a technician needs to see it: every USB device with
/// its ids, names and serial number (or why they could not be read), and every GPIO chip.
public enum DeviceInventory {
    public struct USBDevice: Sendable, Hashable {
        public var bus: UInt8
        public var address: UInt8
        public var vendor: UInt16
        public var product: UInt16
        public var manufacturer: String?
        public var productName: String?
        public var serial: String?
        /// Why the device could not be opened (its strings need that), with the usual fix.
        public var problem: String?
        /// A kernel driver holds interface 0 (lanegate detaches it when it opens the device).
        public var kernelDriverAttached: Bool

        public var match: USBDeviceMatch { USBDeviceMatch(vendor: vendor, product: product, serial: serial) }
        /// A USB serial bridge or a CDC-ACM device: what readers and receivers look like.
        public var looksLikeSerial: Bool {
            [0x0403, 0x10C4, 0x067B, 0x1A86].contains(vendor) || productName?.lowercased().contains("serial") == true
        }
    }

    public struct GPIOChip: Sendable, Hashable {
        public var name: String
        public var label: String
        public var lines: Int
    }

    /// Every USB device, or the reason libusb could not list them.
    public static func usbDevices() -> Result<[USBDevice], LinkError> {
        let context: OpaquePointer
        do throws(LinkError) { context = try USBContext.shared() } catch { return .failure(error) }
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = libusb_get_device_list(context, &list)
        guard count >= 0, let list else { return .failure(USBSerialLink.error("list USB devices", Int32(count))) }
        defer { libusb_free_device_list(list, 1) }
        var out: [USBDevice] = []
        for i in 0..<count {
            guard let device = list[i] else { continue }
            var descriptor = libusb_device_descriptor()
            guard libusb_get_device_descriptor(device, &descriptor) == 0, descriptor.bDeviceClass != 0x09 else { continue }  // hubs
            var entry = USBDevice(bus: libusb_get_bus_number(device), address: libusb_get_device_address(device),
                                  vendor: descriptor.idVendor, product: descriptor.idProduct, kernelDriverAttached: false)
            var handle: OpaquePointer?
            let status = libusb_open(device, &handle)
            if status == 0, let handle {
                entry.manufacturer = string(handle, descriptor.iManufacturer)
                entry.productName = string(handle, descriptor.iProduct)
                entry.serial = string(handle, descriptor.iSerialNumber)
                entry.kernelDriverAttached = libusb_kernel_driver_active(handle, 0) == 1
                libusb_close(handle)
            } else if status == LIBUSB_ERROR_ACCESS.rawValue {
                entry.problem = "permission denied: no udev rule for it yet (lanegate config udev-rules), or this user is not in group lanegate"
            } else {
                entry.problem = String(cString: libusb_strerror(status))
            }
            out.append(entry)
        }
        return .success(out.sorted { ($0.bus, $0.address) < ($1.bus, $1.address) })
    }

    /// The libgpiod API this build drives GPIO chips through: 1 (Debian 12) or 2 (Debian 13).
    public static var gpioLibraryAPI: Int { Int(lanegate_gpio_api()) }

    /// Every GPIO chip the kernel offers (those this user may open).
    public static func gpioChips() -> [GPIOChip] {
        var infos = [lanegate_gpio_chip_info](repeating: lanegate_gpio_chip_info(), count: 64)
        let count = lanegate_gpio_list_chips(&infos, UInt32(infos.count))
        return infos.prefix(Int(max(count, 0))).map {
            GPIOChip(name: GPIOChipText.string($0.name), label: GPIOChipText.string($0.label), lines: Int($0.num_lines))
        }
    }

    private static func string(_ handle: OpaquePointer, _ index: UInt8) -> String? {
        guard index != 0 else { return nil }
        var text = [UInt8](repeating: 0, count: 256)
        let n = libusb_get_string_descriptor_ascii(handle, index, &text, Int32(text.count))
        return n > 0 ? String(decoding: text.prefix(Int(n)), as: UTF8.self) : nil
    }
}
