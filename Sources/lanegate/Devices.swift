import ArgumentParser
import LaneDevices
import LaneGateway
import LaneCore

/// `lanegate devices`: what is plugged in, which configured device each is, and what is wrong.
struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List USB devices and GPIO chips, match them to the configuration, and say what is wrong.")

    @Option(help: "The configuration to match against.") var config = "/etc/lanegate/lanegate.toml"

    func run() throws {
        let out = FileOutput.standardOutput
        let settings = try? GatewayConfig.load(path: config)
        if settings == nil { out.write("(no valid configuration at \(config): listing only)\n") }
        var wanted: [(name: String, match: USBDeviceMatch)] = []
        var wantedChips: [(name: String, chip: String)] = []
        for (i, device) in (settings?.layout.devices ?? []).enumerated() {
            switch settings?.deviceSetups[i] {
            case .mercury(_, .usb(let match)), .eseal(_, .usb(let match)): wanted.append((device.name, match))
            case .gpioLoops(let gpio): wantedChips.append((device.name, gpio.chip))
            default: break
            }
        }

        out.write("USB devices:\n")
        switch DeviceInventory.usbDevices() {
        case .failure(let error):
            out.write("  cannot list them: \(error)\n")
        case .success(let devices):
            if devices.isEmpty { out.write("  none\n") }
            for d in devices {
                let ids = hex4(d.vendor) + ":" + hex4(d.product)
                let names = [d.manufacturer, d.productName].compactMap { $0 }.joined(separator: " ")
                let owner = wanted.first { $0.match.vendor == d.vendor && $0.match.product == d.product
                    && ($0.match.serial == nil || $0.match.serial == d.serial) }
                var line = "  \(ids) \(names.isEmpty ? "?" : names) serial \(d.serial ?? "?")"
                if let owner { line += "  → \(owner.name)" } else if d.looksLikeSerial { line += "  (a serial adapter no device entry names)" }
                out.write(line + "\n")
                if let problem = d.problem { out.write("      problem: \(problem)\n") }
                if d.kernelDriverAttached && owner != nil { out.write("      a kernel driver holds it; lanegate detaches it on open\n") }
            }
            for w in wanted where !devices.contains(where: { $0.vendor == w.match.vendor && $0.product == w.match.product
                && (w.match.serial == nil || $0.serial == w.match.serial) }) {
                out.write("  missing: \(w.name) wants \(w.match)\n      not plugged in, or its serial number differs\n")
            }
        }

        out.write("GPIO chips (libgpiod \(DeviceInventory.gpioLibraryAPI) API):\n")
        let chips = DeviceInventory.gpioChips()
        if chips.isEmpty { out.write("  none (or none this user may open)\n") }
        for chip in chips {
            let owner = wantedChips.first { $0.chip == chip.name || $0.chip == "/dev/" + chip.name || $0.chip == chip.label }
            out.write("  \(chip.name) \"\(chip.label)\" \(chip.lines) lines\(owner.map { "  → \($0.name)" } ?? "")\n")
        }
        for w in wantedChips where !chips.contains(where: { w.chip == $0.name || w.chip == "/dev/" + $0.name || w.chip == $0.label }) {
            out.write("  missing: \(w.name) wants \(w.chip)\n      no such chip, or this user may not open it (group lanegate, udev rule)\n")
        }
        out.flush()
    }

    private func hex4(_ value: UInt16) -> String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 4 - s.count) + s
    }
}
