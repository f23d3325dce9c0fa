import LaneCore
import LaneDevices

/// udev rules for exactly the devices a configuration names: each USB reader or receiver by
/// vendor id, product id and serial number (so a generic adapter id never grants a stranger's
/// cable), group `lanegate`, mode 0660, a stable `/dev/lanegate/…` name, and a systemd tag;
/// the GPIO chips its loops use, likewise. Nothing is ever world-writable.
public enum UdevRules {
    public static func text(for config: GatewayConfig, source: String) -> String {
        var lines = [
            "# udev rules for lanegate gateway \(config.gatewayID), made by `lanegate config udev-rules \(source)`.",
            "# Install as /etc/udev/rules.d/70-lanegate.rules, then: udevadm control --reload && udevadm trigger",
        ]
        for (i, device) in config.layout.devices.enumerated() {
            guard let setup = config.deviceSetups[i] else { continue }
            switch setup {
            case .mercury(_, .usb(let match)), .eseal(_, .usb(let match)):
                let ids = "ATTR{idVendor}==\"\(hex4(match.vendor))\", ATTR{idProduct}==\"\(hex4(match.product))\""
                let serial = match.serial.map { ", ATTR{serial}==\"\(quoted($0))\"" } ?? ""
                lines.append("")
                lines.append("# \(device.name): the USB device itself, which lanegate drives through libusb")
                lines.append("SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\", \(ids)\(serial), "
                             + "GROUP=\"lanegate\", MODE=\"0660\", SYMLINK+=\"lanegate/usb-\(device.name)\", TAG+=\"systemd\"")
                lines.append("# \(device.name): its serial port, where a kernel driver binds it")
                lines.append("SUBSYSTEM==\"tty\", \(ids.replacing("ATTR{", with: "ATTRS{"))"
                             + "\(serial.replacing("ATTR{", with: "ATTRS{")), "
                             + "GROUP=\"lanegate\", MODE=\"0660\", SYMLINK+=\"lanegate/\(device.name)\", TAG+=\"systemd\"")
            case .mercury(_, .tty(let path)), .eseal(_, .tty(let path)):
                lines.append("")
                lines.append("# \(device.name): configured as \(path); give its USB ids and serial number in the")
                lines.append("# configuration (usb = { … }) for a rule here, or keep a rule of your own for it.")
            case .gpioLoops(let settings):
                let chip = settings.chip.hasPrefix("/dev/") ? String(settings.chip.dropFirst(5)) : settings.chip
                let match = chip.hasPrefix("gpiochip") ? "KERNEL==\"\(quoted(chip))\"" : "KERNEL==\"gpiochip*\", ATTR{label}==\"\(quoted(chip))\""
                lines.append("")
                lines.append("# \(device.name): the GPIO chip of its loop inputs")
                lines.append("SUBSYSTEM==\"gpio\", \(match), GROUP=\"lanegate\", MODE=\"0660\", TAG+=\"systemd\"")
            case .llrp, .simulatedLoops:
                continue
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func quoted(_ text: String) -> String {
        String(text.filter { $0 != "\"" && $0 != "\\" && !$0.isNewline })
    }

    private static func hex4(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}
