import LaneCore
import LaneDevices
import TOMLKit
import LaneTOML

/// Reading the transport and protocol keys of a `[[devices]]` entry.
extension ConfigReader {
    /// FTDI's generic ids: any cable could carry them, so they need a serial number as well.
    static let genericUSBIDs: Set<UInt32> = [0x0403_6001, 0x0403_6010, 0x0403_6011, 0x0403_6014, 0x0403_6015]

    mutating func readSetup(_ entry: TOMLTable, kind: LaneLayout.Device.Kind, path: String) -> DeviceSetup? {
        switch kind {
        case .rfid:
            let protocolName = string(entry, "protocol", path: path + ".protocol", required: false) ?? "mercury"
            switch protocolName {
            case "mercury": return readMercury(entry, path: path)
            case "llrp": return readLLRP(entry, path: path)
            default:
                fail(path + ".protocol", "must be \"mercury\" (serial and USB modules) or \"llrp\" (network readers), got \"\(protocolName)\"")
                return nil
            }
        case .eseal:
            checkKeys(entry, path: path, allowed: ["name", "kind", "tty", "usb", "baud"])
            let transport = serialTransport(entry, path: path)
            var settings = ESealReceiverSettings()
            settings.baud = baud(entry, path: path) ?? settings.baud
            return transport.map { .eseal(settings, $0) }
        case .loops:
            checkKeys(entry, path: path, allowed: ["name", "kind", "gpio_chip", "active_low", "bias"])
            guard let chip = string(entry, "gpio_chip", path: path + ".gpio_chip", required: false) else { return nil }
            var settings = GPIOLoopSettings(chip: chip, lines: [])
            settings.activeLow = bool(entry, "active_low", path: path + ".active_low") ?? settings.activeLow
            if let bias = string(entry, "bias", path: path + ".bias", required: false) {
                if let value = GPIOLoopSettings.Bias(rawValue: bias) { settings.bias = value } else {
                    fail(path + ".bias", "must be one of \(GPIOLoopSettings.Bias.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(bias)\"")
                }
            }
            return .gpioLoops(settings)
        case .camera:
            // Cameras push to the plate listener: see readCamera.
            return nil
        }
    }

    private mutating func readMercury(_ entry: TOMLTable, path: String) -> DeviceSetup? {
        checkKeys(entry, path: path, allowed: ["name", "kind", "protocol", "tty", "usb", "baud", "region", "tag_protocol",
                                               "antennas", "read_power_dbm", "cycle", "response_crc"])
        // Every key is checked even when the transport is missing or wrong: all errors at once.
        let transport = serialTransport(entry, path: path)
        var settings = MercuryReaderSettings()
        settings.baud = baud(entry, path: path) ?? settings.baud
        if let region = string(entry, "region", path: path + ".region", required: false) {
            if let value = MercuryRegion.allCases.first(where: { $0.name == region }) { settings.region = value } else {
                fail(path + ".region", "must be one of \(MercuryRegion.allCases.map { "\"\($0.name)\"" }.joined(separator: ", ")), got \"\(region)\"")
            }
        }
        if let name = string(entry, "tag_protocol", path: path + ".tag_protocol", required: false) {
            if let value = MercuryTagProtocol.allCases.first(where: { $0.name == name }) { settings.tagProtocol = value } else {
                fail(path + ".tag_protocol", "must be one of \(MercuryTagProtocol.allCases.map { "\"\($0.name)\"" }.joined(separator: ", ")), got \"\(name)\"")
            }
        }
        if entry["antennas"] != nil {
            let antennas = integers(entry, "antennas", path: path + ".antennas", in: 1...15)
            if !antennas.isEmpty { settings.antennas = antennas.map { UInt8($0) } }
        }
        if let power = double(entry, "read_power_dbm", path: path + ".read_power_dbm", in: 0...31.5) {
            settings.readPowerCentiDBm = UInt16((power * 100).rounded())
        }
        if let cycle = duration(entry, "cycle", path: path + ".cycle", in: .milliseconds(20)...(.seconds(10))) {
            settings.onTimeMilliseconds = UInt16(cycle / 1_000_000)
        }
        settings.responseCRC = bool(entry, "response_crc", path: path + ".response_crc") ?? settings.responseCRC
        return transport.map { .mercury(settings, $0) }
    }

    private mutating func readLLRP(_ entry: TOMLTable, path: String) -> DeviceSetup? {
        checkKeys(entry, path: path, allowed: ["name", "kind", "protocol", "host", "port", "antennas", "keepalive", "report_every"])
        guard let host = string(entry, "host", path: path + ".host", required: false) else {
            fail(path + ".host", "an LLRP reader needs host = \"…\" (its address on the lane network)")
            return nil
        }
        var settings = LLRPClientSettings(host: host)
        settings.port = UInt16(integer(entry, "port", path: path + ".port", in: 1...65535) ?? Int(settings.port))
        if entry["antennas"] != nil {
            settings.antennas = integers(entry, "antennas", path: path + ".antennas", in: 1...65535).map { UInt16($0) }
        }
        settings.keepalivePeriod = duration(entry, "keepalive", path: path + ".keepalive", in: .seconds(1)...(.minutes(10)))
            ?? settings.keepalivePeriod
        settings.reportEvery = UInt16(integer(entry, "report_every", path: path + ".report_every", in: 1...1000) ?? 1)
        return .llrp(settings)
    }

    /// `tty = "/dev/…"` or `usb = { vendor = 0x…, product = 0x…, serial = "…" }`; neither means
    /// a device known by name only (replay), both is an error.
    private mutating func serialTransport(_ entry: TOMLTable, path: String) -> DeviceSetup.SerialTransport? {
        let tty = string(entry, "tty", path: path + ".tty", required: false)
        let usb = table(entry, "usb", path: path + ".usb", required: false)
        switch (tty, usb) {
        case (nil, nil):
            return nil
        case (.some, .some):
            fail(path, "give either tty or usb, not both")
            return nil
        case (let device?, nil) where !device.hasPrefix("/"):
            fail(path + ".tty", "must be an absolute path such as \"/dev/lanegate/rfid-lane1\", got \"\(device)\"")
            return nil
        case (let device?, nil):
            return .tty(device)
        case (nil, let usb?):
            checkKeys(usb, path: path + ".usb", allowed: ["vendor", "product", "serial"])
            guard let vendor = integer(usb, "vendor", path: path + ".usb.vendor", in: 1...0xFFFF),
                  let product = integer(usb, "product", path: path + ".usb.product", in: 1...0xFFFF) else {
                if usb["vendor"] == nil || usb["product"] == nil {
                    fail(path + ".usb", "needs vendor and product ids, e.g. { vendor = 0x0403, product = 0x6001, serial = \"A10K2B3\" }")
                }
                return nil
            }
            let serial = string(usb, "serial", path: path + ".usb.serial", required: false)
            if serial == nil && Self.genericUSBIDs.contains(UInt32(vendor) << 16 | UInt32(product)) {
                fail(path + ".usb.serial", "is required for a generic FTDI adapter id (any cable could have it); `lanegate devices` lists serial numbers")
                return nil
            }
            return .usb(USBDeviceMatch(vendor: UInt16(vendor), product: UInt16(product), serial: serial))
        }
    }

    private mutating func baud(_ entry: TOMLTable, path: String) -> Int? {
        guard let baud = integer(entry, "baud", path: path + ".baud", in: 1...4_000_000) else { return nil }
        let allowed = [9600, 19200, 38400, 57600, 115_200, 230_400, 460_800, 921_600]
        guard allowed.contains(baud) else {
            fail(path + ".baud", "must be one of \(allowed.map(String.init).joined(separator: ", ")), got \(baud)")
            return nil
        }
        return baud
    }
}
