import LaneCore
import LaneDevices
@testable import LaneGateway
import LaneWire
import Testing
import LaneTOML

@Suite("Device configuration")
struct DeviceConfigTests {
    static func config(devices: String) -> String {
        """
        [gateway]
        id = "test-gw"
        \(devices)
        [[lanes]]
        name = "lane1"
          [[lanes.read_points]]
          name = "booth"
          antennas = [{ device = "rfid-lane1", ports = [1, 2] }]
          [[lanes.loops]]
          name = "loop-a"
          device = "loops"
          line = 4
          [[lanes.loops]]
          name = "loop-b"
          device = "loops"
          line = 5
        """
    }

    @Test func everyTransportAndItsOptions() throws {
        let text = Self.config(devices: """
        [[devices]]
        name = "rfid-lane1"
        kind = "rfid"
        usb = { vendor = 0x0403, product = 0x6001, serial = "A10K2B3" }
        baud = 921600
        region = "na2"
        tag_protocol = "ata"
        antennas = [1, 2]
        read_power_dbm = 27.5
        cycle = "100ms"
        response_crc = false
        [[devices]]
        name = "portal"
        kind = "rfid"
        protocol = "llrp"
        host = "10.20.0.7"
        keepalive = "5s"
        [[devices]]
        name = "eseal"
        kind = "eseal"
        tty = "/dev/lanegate/eseal"
        [[devices]]
        name = "loops"
        kind = "loops"
        gpio_chip = "gpiochip1"
        bias = "pull-up"
        """)
        let config = try GatewayConfig.parse(text, file: "t.toml")
        #expect(config.deviceSetups.count == 4)
        guard case .mercury(let mercury, .usb(let match)) = config.deviceSetups[0] else { Issue.record("rfid-lane1"); return }
        #expect(match == USBDeviceMatch(vendor: 0x0403, product: 0x6001, serial: "A10K2B3"))
        #expect(mercury.baud == 921_600)
        #expect(mercury.region == .na2)
        #expect(mercury.tagProtocol == .ata)
        #expect(mercury.antennas == [1, 2])
        #expect(mercury.readPowerCentiDBm == 2750)
        #expect(mercury.onTimeMilliseconds == 100)
        #expect(!mercury.responseCRC)
        guard case .llrp(let llrp) = config.deviceSetups[1] else { Issue.record("portal"); return }
        #expect(llrp.host == "10.20.0.7" && llrp.port == 5084 && llrp.keepalivePeriod == .seconds(5))
        guard case .eseal(_, .tty(let path)) = config.deviceSetups[2] else { Issue.record("eseal"); return }
        #expect(path == "/dev/lanegate/eseal")
        guard case .gpioLoops(let gpio) = config.deviceSetups[3] else { Issue.record("loops"); return }
        #expect(gpio.chip == "gpiochip1" && gpio.bias == .pullUp && gpio.activeLow)
        #expect(gpio.lines == [4, 5], "the lines are the lanes' loops on this device")
        #expect(config.deviceSetups[0]?.wake != nil, "USB devices come back on hotplug")
        #expect(config.deviceSetups[2]?.wake == nil)
    }

    @Test func devicesByNameAndKindOnlyHaveNoSetup() throws {
        let config = try GatewayConfig.parse(Self.config(devices: """
        [[devices]]
        name = "rfid-lane1"
        kind = "rfid"
        [[devices]]
        name = "loops"
        kind = "loops"
        """), file: "t.toml")
        #expect(config.deviceSetups.count == 2)
        #expect(config.deviceSetups.allSatisfy { $0 == nil })
    }

    @Test func mistakesAreNamedWithWhatIsAllowed() throws {
        let text = Self.config(devices: """
        [[devices]]
        name = "rfid-lane1"
        kind = "rfid"
        usb = { vendor = 0x0403, product = 0x6001 }
        baud = 12345
        [[devices]]
        name = "portal"
        kind = "rfid"
        protocol = "llrp"
        [[devices]]
        name = "other"
        kind = "rfid"
        protocol = "snmp"
        [[devices]]
        name = "eseal"
        kind = "eseal"
        tty = "ttyUSB0"
        [[devices]]
        name = "eseal2"
        kind = "eseal"
        tty = "/dev/ttyUSB1"
        usb = { vendor = 0x10c4, product = 0xea60 }
        [[devices]]
        name = "loops"
        kind = "loops"
        gpio_chip = "gpiochip0"
        bias = "sideways"
        colour = "red"
        """)
        do {
            _ = try GatewayConfig.parse(text, file: "t.toml")
            Issue.record("accepted a broken file")
        } catch let errors as ConfigErrors {
            let lines = errors.errors.map(\.description)
            let expected = [
                "t.toml:6: devices[0].usb.serial: is required for a generic FTDI adapter id",
                "t.toml:7: devices[0].baud: must be one of 9600, 19200",
                "devices[1].host: an LLRP reader needs host",
                "t.toml:15: devices[2].protocol: must be \"mercury\" (serial and USB modules) or \"llrp\"",
                "t.toml:19: devices[3].tty: must be an absolute path",
                "devices[4]: give either tty or usb, not both",
                "t.toml:29: devices[5].bias: must be one of \"as-is\", \"pull-up\", \"pull-down\", \"disabled\", got \"sideways\"",
                "t.toml:30: devices[5].colour: unknown key",
            ]
            for prefix in expected {
                #expect(lines.contains { $0.contains(prefix) }, "\(prefix) not in \(lines)")
            }
        }
    }
}

@Suite("Collector and spool configuration")
struct CollectorConfigTests {
    static func text(_ extra: String) -> String {
        DeviceConfigTests.config(devices: """
        [[devices]]
        name = "rfid-lane1"
        kind = "rfid"
        [[devices]]
        name = "loops"
        kind = "loops"
        """) + "\n" + extra
    }

    @Test func collectorAndAPartialSpoolTable() throws {
        let config = try GatewayConfig.parse(Self.text("""
        [collector]
        url = "https://collector.example:8443/v1/batches"
        ca_bundle = "/etc/lanegate/collector-ca.pem"
        client_certificate = "/etc/lanegate/gateway.pem"
        client_key = "/etc/lanegate/gateway.key"
        [spool]
        max_size = "64MiB"
        """), file: "t.toml")
        #expect(config.collector?.url == "https://collector.example:8443/v1/batches")
        #expect(config.collector?.clientKey == "/etc/lanegate/gateway.key")
        #expect(config.spoolPath == GatewayConfig.defaultSpoolPath, "a [spool] table may leave path and durability out")
        #expect(config.spoolSettings.maxBytes == 64 << 20)
    }

    /// Several collectors on one database: the uplink fails over in the order written.
    @Test func severalCollectorURLsInFailoverOrder() throws {
        let config = try GatewayConfig.parse(Self.text("""
        [collector]
        url = ["https://collector-a.example:8443/v1/batches", "https://collector-b.example:8443/v1/batches"]
        """), file: "t.toml")
        #expect(config.collector?.url == "https://collector-a.example:8443/v1/batches")
        #expect(config.collector?.fallbackURLs == ["https://collector-b.example:8443/v1/batches"])
        #expect(try config.collector?.uplinkSettings().urls.count == 2)
        for bad in ["url = []", "url = [\"https://a/v1/batches\", 7]", "url = [\"https://a/v1/batches\", \"http://b/v1/batches\"]",
                    "url = [\"https://a/v1/batches\", \"https://a/v1/batches\"]"] {
            #expect(throws: ConfigErrors.self, "\(bad)") { try GatewayConfig.parse(Self.text("[collector]\n\(bad)\n"), file: "t.toml") }
        }
    }

    @Test func plainHTTPOnlyWhenAllowedAndKeyFilesInPairs() throws {
        do {
            _ = try GatewayConfig.parse(Self.text("""
            [collector]
            url = "http://collector:8080/v1/batches"
            client_certificate = "/etc/lanegate/gateway.pem"
            token_file = "token"
            """), file: "t.toml")
            Issue.record("accepted a broken [collector]")
        } catch let errors as ConfigErrors {
            let lines = errors.errors.map(\.description)
            #expect(lines.contains { $0.contains("collector.url: must be an https:// URL") }, "\(lines)")
            #expect(lines.contains { $0.contains("collector.token_file: must be an absolute path") }, "\(lines)")
            #expect(lines.contains { $0.contains("collector: client_certificate and client_key go together") }, "\(lines)")
        }
        let lab = try GatewayConfig.parse(Self.text("[collector]\nurl = \"http://127.0.0.1:8080/v1/batches\"\nallow_plain_http = true\n"), file: "t.toml")
        #expect(lab.collector?.allowPlainHTTP == true)
        #expect(lab.metricsListen?.host == "127.0.0.1" && lab.metricsListen?.port == 9464, "metrics on by default, locally")
        #expect(try GatewayConfig.parse(Self.text("[metrics]\nlisten = \"off\"\n"), file: "t.toml").metricsListen == nil)
        #expect(throws: ConfigErrors.self) { try GatewayConfig.parse(Self.text("[metrics]\nlisten = \"9464\"\n"), file: "t.toml") }
    }

    @Test func theZstdDictionaryIsAutoUnlessSaid() throws {
        let collector = "[collector]\nurl = \"https://collector:8443/v1/batches\"\n"
        #expect(try GatewayConfig.parse(Self.text(collector), file: "t.toml").collector?.zstdDictionary == .auto)
        for policy in DictionaryUse.Policy.allCases {
            let parsed = try GatewayConfig.parse(Self.text(collector + "zstd_dictionary = \"\(policy.rawValue)\"\n"), file: "t.toml")
            #expect(parsed.collector?.zstdDictionary == policy)
        }
        do {
            _ = try GatewayConfig.parse(Self.text(collector + "zstd_dictionary = \"yes\"\n"), file: "t.toml")
            Issue.record("accepted zstd_dictionary = \"yes\"")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.map(\.description).contains {
                $0.contains("collector.zstd_dictionary: must be one of \"auto\", \"always\", \"never\", got \"yes\"")
            }, "\(errors.errors)")
        }
    }

    @Test func theMonitorSocketIsAnAbsolutePathOrOff() throws {
        #expect(try GatewayConfig.parse(Self.text(""), file: "t.toml").monitorSocket == "/run/lanegate/monitor.sock")
        #expect(try GatewayConfig.parse(Self.text("[monitor]\nsocket = \"off\"\n"), file: "t.toml").monitorSocket == nil)
        #expect(try GatewayConfig.parse(Self.text("[monitor]\nsocket = \"/tmp/m.sock\"\n"), file: "t.toml").monitorSocket == "/tmp/m.sock")
        for bad in ["monitor.sock", "/" + String(repeating: "d", count: 120)] {
            do {
                _ = try GatewayConfig.parse(Self.text("[monitor]\nsocket = \"\(bad)\"\n"), file: "t.toml")
                Issue.record("accepted socket \(bad)")
            } catch let errors as ConfigErrors {
                #expect(errors.errors.map(\.description).contains {
                    $0.contains(#/^t\.toml:\d+: monitor\.socket: must be an absolute path of at most 107 bytes/#)
                }, "file, line and key: \(errors.errors)")
            }
        }
    }
}

@Suite("udev rules")
struct UdevRulesTests {
    @Test func exactlyTheConfiguredDevicesGroupLanegateNeverWorldWritable() throws {
        let config = try GatewayConfig.parse(DeviceConfigTests.config(devices: """
        [[devices]]
        name = "rfid-lane1"
        kind = "rfid"
        usb = { vendor = 0x0403, product = 0x6001, serial = "A10K2B3" }
        [[devices]]
        name = "eseal"
        kind = "eseal"
        tty = "/dev/ttyS1"
        [[devices]]
        name = "loops"
        kind = "loops"
        gpio_chip = "gpiochip0"
        """), file: "t.toml")
        let rules = UdevRules.text(for: config, source: "t.toml")
        let active = rules.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(active == [
            #"SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="0403", ATTR{idProduct}=="6001", ATTR{serial}=="A10K2B3", GROUP="lanegate", MODE="0660", SYMLINK+="lanegate/usb-rfid-lane1", TAG+="systemd""#,
            #"SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", ATTRS{serial}=="A10K2B3", GROUP="lanegate", MODE="0660", SYMLINK+="lanegate/rfid-lane1", TAG+="systemd""#,
            #"SUBSYSTEM=="gpio", KERNEL=="gpiochip0", GROUP="lanegate", MODE="0660", TAG+="systemd""#,
        ])
        #expect(rules.contains("# eseal: configured as /dev/ttyS1"))
        #expect(!rules.contains("0666"))
    }
}
