import LaneCore
import LaneSpool
import LaneWire
import TOMLKit
import LaneTOML
import LaneDevices

/// Everything the configuration file says, validated.
public struct GatewayConfig: Sendable {
    public var gatewayID: String
    public var layout: LaneLayout
    public var batchPolicy: BatchPolicy
    /// Where the site key for tag-id pseudonyms lives; nil when raw ids are forwarded.
    public var privacyKeyFile: String?
    public var spoolPath: String
    public var spoolSettings: SpoolSettings
    /// How to reach each device of `layout.devices` (same order); nil for a device given by
    /// name and kind only (enough for replaying traces, not for reading hardware).
    public var deviceSetups: [DeviceSetup?]
    /// Where batches go; nil when the file has no `[collector]` (replay and tools only).
    public var collector: CollectorSettings?
    /// Where `lanegate run` serves Prometheus metrics (`/metrics`); nil: not at all.
    public var metricsListen: (host: String, port: Int)? = ("127.0.0.1", 9464)
    /// The unix socket `lanegate monitor` reads the running daemon through; nil: none. A file
    /// without `[monitor]` gets ``defaultMonitorSocket``; a configuration built in code, none.
    public var monitorSocket: String?
    public static let defaultMonitorSocket = "/run/lanegate/monitor.sock"
    /// The text this configuration was parsed from ("" when built in code): what a reload
    /// compares the file against.
    public var sourceText = ""
    /// The licence-plate cameras among the devices, and where they push; nil without cameras.
    public var plateCameras: [PlateCameraSetup] = []
    public var plateListener: PlateListener.Settings?

    public struct CollectorSettings: Sendable, Hashable {
        /// The first collector; the uplink fails over to `fallbackURLs` in turn.
        public var url: String
        public var fallbackURLs: [String] = []
        public var tokenFile: String?
        public var caBundle: String?
        public var clientCertificate: String?
        public var clientKey: String?
        public var allowPlainHTTP = false
        /// Whether batches are compressed with the shipped zstd dictionary (see `DictionaryUse`).
        public var zstdDictionary = DictionaryUse.Policy.auto
        public init(url: String) { self.url = url }
    }

    public static let defaultSpoolPath = "/var/lib/lanegate/spool.db"

    public init(gatewayID: String, layout: LaneLayout, batchPolicy: BatchPolicy = BatchPolicy(), privacyKeyFile: String? = nil,
                spoolPath: String = GatewayConfig.defaultSpoolPath, spoolSettings: SpoolSettings = SpoolSettings(),
                deviceSetups: [DeviceSetup?] = []) {
        self.gatewayID = gatewayID
        self.layout = layout
        self.batchPolicy = batchPolicy
        self.privacyKeyFile = privacyKeyFile
        self.spoolPath = spoolPath
        self.spoolSettings = spoolSettings
        self.deviceSetups = deviceSetups.count == layout.devices.count ? deviceSetups
            : Array(repeating: nil, count: layout.devices.count)
    }

    /// Reads and validates `path`. Every problem found is reported, each with its line.
    public static func load(path: String) throws -> GatewayConfig {
        let text: String
        do { text = try readTextFile(path) } catch {
            throw ConfigError(file: path, line: nil, key: nil, message: "cannot read the file: \(error)")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> GatewayConfig {
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw ConfigError(file: file, line: error.source.begin.line, key: nil,
                              message: "not valid TOML: \(error.description)")
        }
        var reader = ConfigReader(file: file, locator: TOMLKeyLocator(text: text))
        guard var config = reader.read(root), reader.errors.isEmpty else { throw ConfigErrors(errors: reader.errors) }
        config.sourceText = text
        return config
    }
}

/// Walks the parsed TOML, collecting every error instead of stopping at the first.
struct ConfigReader: TOMLFieldReader {
    let file: String
    let locator: TOMLKeyLocator
    var errors: [ConfigError] = []

    mutating func read(_ root: TOMLTable) -> GatewayConfig? {
        checkKeys(root, path: "", allowed: ["gateway", "pipeline", "privacy", "devices", "lanes",
                                            "collector", "spool", "metrics", "monitor", "plate_listener"])
        let gateway = table(root, "gateway", path: "gateway", required: true)
        var gatewayID = ""
        if let gateway {
            checkKeys(gateway, path: "gateway", allowed: ["id"])
            gatewayID = string(gateway, "id", path: "gateway.id") ?? ""
            if !GatewayID.isValid(gatewayID) {
                fail("gateway.id", "must be \(GatewayID.rule), got \"\(gatewayID)\"")
            }
        }

        var policy = BatchPolicy()
        var maxTags = 100_000, maxSeals = 10_000
        if let pipeline = table(root, "pipeline", path: "pipeline", required: false) {
            checkKeys(pipeline, path: "pipeline", allowed: ["max_tracked_tags", "max_tracked_seals", "batch_window", "batch_max_events"])
            maxTags = integer(pipeline, "max_tracked_tags", path: "pipeline.max_tracked_tags", in: 1...10_000_000) ?? maxTags
            maxSeals = integer(pipeline, "max_tracked_seals", path: "pipeline.max_tracked_seals", in: 1...1_000_000) ?? maxSeals
            policy.window = duration(pipeline, "batch_window", path: "pipeline.batch_window", in: .milliseconds(10)...(.minutes(10))) ?? policy.window
            // Below the wire's 65,535 events a batch, with room for the loss gaps a batch may carry.
            policy.maxEvents = integer(pipeline, "batch_max_events", path: "pipeline.batch_max_events", in: 1...65_000) ?? policy.maxEvents
        }

        var keyFile: String?
        if let privacy = table(root, "privacy", path: "privacy", required: false) {
            checkKeys(privacy, path: "privacy", allowed: ["hash_tag_ids", "key_file"])
            if bool(privacy, "hash_tag_ids", path: "privacy.hash_tag_ids") == true {
                keyFile = string(privacy, "key_file", path: "privacy.key_file")
                if keyFile == nil { fail("privacy.key_file", "is required when hash_tag_ids = true (a file of at least 16 secret bytes)") }
            }
        }

        let (spoolPath, spoolSettings) = readSpool(root)
        let collector = readCollector(root)
        let (devices, setups, cameras) = readDevices(root)
        for camera in cameras where !devices[Int(camera.device.rawValue)].keepsRawPlates && keyFile == nil {
            fail("devices[\(camera.device.rawValue)]", "camera \"\(devices[Int(camera.device.rawValue)].name)\" sends plates pseudonymised with the site key: set [privacy] hash_tag_ids and key_file, or raw_plates = true on the camera")
        }
        let layout = readLanes(root, devices: devices, maxTags: maxTags, maxSeals: maxSeals)
        let finished = setups.enumerated().map { i, setup -> DeviceSetup? in
            // A GPIO loop device reads the lines the lanes' loops name.
            guard case .gpioLoops(var settings) = setup else { return setup }
            settings.lines = layout.loops.filter { Int($0.device.rawValue) == i }.map(\.line)
            return .gpioLoops(settings)
        }
        var config = GatewayConfig(gatewayID: gatewayID, layout: layout, batchPolicy: policy, privacyKeyFile: keyFile,
                                   spoolPath: spoolPath, spoolSettings: spoolSettings, deviceSetups: finished)
        config.collector = collector
        config.metricsListen = readMetrics(root)
        config.monitorSocket = readMonitor(root)
        config.plateCameras = cameras
        config.plateListener = readPlateListener(root, cameras: cameras.count)
        return config
    }

    mutating func readCollector(_ root: TOMLTable) -> GatewayConfig.CollectorSettings? {
        guard let table = table(root, "collector", path: "collector", required: false) else { return nil }
        checkKeys(table, path: "collector", allowed: ["url", "token_file", "ca_bundle", "client_certificate", "client_key", "allow_plain_http",
                                                               "zstd_dictionary"])
        guard let urls = stringOrStrings(table, "url", path: "collector.url"), let url = urls.first else { return nil }
        var settings = GatewayConfig.CollectorSettings(url: url)
        settings.fallbackURLs = Array(urls.dropFirst())
        settings.allowPlainHTTP = bool(table, "allow_plain_http", path: "collector.allow_plain_http") ?? false
        for url in urls where !url.hasPrefix("https://") && !(url.hasPrefix("http://") && settings.allowPlainHTTP) {
            fail("collector.url", "must be an https:// URL such as \"https://collector.example:8443/v1/batches\" (http:// only with allow_plain_http = true), got \"\(url)\"")
        }
        if Set(urls).count != urls.count { fail("collector.url", "names a collector twice") }
        if let policy = string(table, "zstd_dictionary", path: "collector.zstd_dictionary", required: false) {
            if let known = DictionaryUse.Policy(rawValue: policy) { settings.zstdDictionary = known } else {
                fail("collector.zstd_dictionary", "must be one of \(DictionaryUse.Policy.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(policy)\"")
            }
        }
        for (key, keyPath) in [("token_file", \GatewayConfig.CollectorSettings.tokenFile), ("ca_bundle", \.caBundle),
                               ("client_certificate", \.clientCertificate), ("client_key", \.clientKey)] {
            guard let file = string(table, key, path: "collector.\(key)", required: false) else { continue }
            if file.hasPrefix("/") { settings[keyPath: keyPath] = file } else {
                fail("collector.\(key)", "must be an absolute path, got \"\(file)\"")
            }
        }
        if (settings.clientCertificate == nil) != (settings.clientKey == nil) {
            fail("collector", "client_certificate and client_key go together")
        }
        return settings
    }

    mutating func readMetrics(_ root: TOMLTable) -> (host: String, port: Int)? {
        let fallback: (host: String, port: Int)? = ("127.0.0.1", 9464)
        guard let table = table(root, "metrics", path: "metrics", required: false) else { return fallback }
        checkKeys(table, path: "metrics", allowed: ["listen"])
        guard let listen = string(table, "listen", path: "metrics.listen", required: false) else { return fallback }
        if listen == "off" { return nil }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (1...65535).contains(port), colon > listen.startIndex else {
            fail("metrics.listen", "must be \"host:port\" such as \"127.0.0.1:9464\", or \"off\", got \"\(listen)\"")
            return fallback
        }
        return (String(listen[..<colon]), port)
    }

    mutating func readMonitor(_ root: TOMLTable) -> String? {
        let fallback = GatewayConfig.defaultMonitorSocket
        guard let table = table(root, "monitor", path: "monitor", required: false) else { return fallback }
        checkKeys(table, path: "monitor", allowed: ["socket"])
        guard let socket = string(table, "socket", path: "monitor.socket", required: false) else { return fallback }
        if socket == "off" { return nil }
        // sun_path holds 107 bytes and a terminating zero.
        guard socket.hasPrefix("/"), socket.utf8.count <= 107 else {
            fail("monitor.socket", "must be an absolute path of at most 107 bytes such as \"\(fallback)\", or \"off\", got \"\(socket)\"")
            return fallback
        }
        return socket
    }

    mutating func readSpool(_ root: TOMLTable) -> (String, SpoolSettings) {
        var settings = SpoolSettings()
        var path = GatewayConfig.defaultSpoolPath
        guard let spool = table(root, "spool", path: "spool", required: false) else { return (path, settings) }
        checkKeys(spool, path: "spool", allowed: ["path", "durability", "max_size", "min_free_disk", "routine_ttl", "priority_ttl"])
        if let p = string(spool, "path", path: "spool.path", required: false) {
            if p.hasPrefix("/") { path = p } else { fail("spool.path", "must be an absolute path, got \"\(p)\"") }
        }
        if let d = string(spool, "durability", path: "spool.durability", required: false) {
            if let durability = SpoolDurability(rawValue: d) { settings.durability = durability } else {
                fail("spool.durability", "must be \"full\" (a committed batch survives a power cut) or \"normal\" (fewer flash writes), got \"\(d)\"")
            }
        }
        settings.maxBytes = byteSize(spool, "max_size", path: "spool.max_size", in: (1 << 20)...(1 << 40)) ?? settings.maxBytes
        settings.minFreeDiskBytes = byteSize(spool, "min_free_disk", path: "spool.min_free_disk", in: 0...(1 << 40)) ?? settings.minFreeDiskBytes
        settings.routineTimeToLive = duration(spool, "routine_ttl", path: "spool.routine_ttl", in: .minutes(1)...(.minutes(525_600)))
        settings.priorityTimeToLive = duration(spool, "priority_ttl", path: "spool.priority_ttl", in: .minutes(1)...(.minutes(525_600)))
        return (path, settings)
    }

    mutating func readDevices(_ root: TOMLTable) -> ([LaneLayout.Device], [DeviceSetup?], [PlateCameraSetup]) {
        var devices: [LaneLayout.Device] = []
        var setups: [DeviceSetup?] = []
        var cameras: [PlateCameraSetup] = []
        for (i, entry) in tables(root, "devices", path: "devices").enumerated() {
            let path = "devices[\(i)]"
            guard let name = string(entry, "name", path: path + ".name") else { continue }
            if devices.contains(where: { $0.name == name }) { fail(path + ".name", "\"\(name)\" is used by another device") }
            let kindText = string(entry, "kind", path: path + ".kind") ?? ""
            guard let kind = LaneLayout.Device.Kind(rawValue: kindText) else {
                fail(path + ".kind", "must be one of \(LaneLayout.Device.Kind.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(kindText)\"")
                continue
            }
            guard kind == .camera else {
                devices.append(LaneLayout.Device(name: name, kind: kind))
                setups.append(readSetup(entry, kind: kind, path: path))
                continue
            }
            let (camera, keepsRaw) = readCamera(entry, device: DeviceIndex(UInt16(clamping: devices.count)), path: path)
            devices.append(LaneLayout.Device(name: name, kind: kind, keepsRawPlates: keepsRaw))
            setups.append(nil)
            if let camera { cameras.append(camera) }
        }
        if devices.count > Int(UInt16.max) { fail("devices", "at most \(UInt16.max) devices") }
        return (devices, setups, cameras)
    }

    mutating func readLanes(_ root: TOMLTable, devices: [LaneLayout.Device], maxTags: Int, maxSeals: Int) -> LaneLayout {
        var layout = LaneLayout(devices: devices, maxTrackedTags: maxTags, maxTrackedSeals: maxSeals)
        func device(_ name: String, path: String, kinds: [LaneLayout.Device.Kind]) -> DeviceIndex? {
            guard let i = devices.firstIndex(where: { $0.name == name }) else {
                fail(path, "no device named \"\(name)\" in [[devices]]")
                return nil
            }
            guard kinds.contains(devices[i].kind) else {
                fail(path, "device \"\(name)\" is a \(devices[i].kind.rawValue) device; expected \(kinds.map(\.rawValue).joined(separator: " or "))")
                return nil
            }
            return DeviceIndex(UInt16(i))
        }
        let laneTables = tables(root, "lanes", path: "lanes")
        if laneTables.isEmpty { fail("lanes", "at least one [[lanes]] entry is required") }
        for (l, lane) in laneTables.enumerated() {
            let lanePath = "lanes[\(l)]"
            checkKeys(lane, path: lanePath, allowed: ["name", "read_points", "loops", "speed_traps", "passage"])
            guard let laneName = string(lane, "name", path: lanePath + ".name") else { continue }
            for (r, point) in tables(lane, "read_points", path: lanePath + ".read_points").enumerated() {
                let path = "\(lanePath).read_points[\(r)]"
                checkKeys(point, path: path, allowed: ["name", "antennas", "depart_after", "min_reads"])
                guard let name = string(point, "name", path: path + ".name") else { continue }
                var antennas: [LaneLayout.Antenna] = []
                for (a, ref) in tables(point, "antennas", path: path + ".antennas").enumerated() {
                    let refPath = "\(path).antennas[\(a)]"
                    checkKeys(ref, path: refPath, allowed: ["device", "ports"])
                    guard let deviceName = string(ref, "device", path: refPath + ".device"),
                          let index = device(deviceName, path: refPath + ".device", kinds: [.rfid, .eseal, .camera]) else { continue }
                    for port in integers(ref, "ports", path: refPath + ".ports", in: 0...255) {
                        antennas.append(LaneLayout.Antenna(device: index, port: UInt8(port)))
                    }
                }
                if antennas.isEmpty { fail(path + ".antennas", "a read point needs at least one { device = \"…\", ports = [ … ] }") }
                let fullName = "\(laneName)/\(name)"
                if layout.readPoints.contains(where: { $0.name == fullName }) { fail(path + ".name", "read point \"\(fullName)\" is defined twice") }
                for antenna in antennas {
                    if let other = layout.readPoints.first(where: { $0.antennas.contains(antenna) }) {
                        fail(path + ".antennas", "\(devices[Int(antenna.device.rawValue)].name) port \(antenna.port) already belongs to read point \"\(other.name)\"")
                    }
                }
                layout.readPoints.append(LaneLayout.ReadPoint(
                    name: fullName, lane: laneName, antennas: antennas,
                    departAfter: duration(point, "depart_after", path: path + ".depart_after", in: .milliseconds(1)...(.minutes(24 * 60))) ?? .seconds(3),
                    minReads: UInt32(integer(point, "min_reads", path: path + ".min_reads", in: 1...10_000) ?? 1)))
            }
            var laneLoops: [String: LoopIndex] = [:]
            for (k, entry) in tables(lane, "loops", path: lanePath + ".loops").enumerated() {
                let path = "\(lanePath).loops[\(k)]"
                checkKeys(entry, path: path, allowed: ["name", "device", "line", "mode", "debounce", "loop_length_m",
                                                      "no_activity", "max_presence", "max_actuations_per_minute", "active_low", "bias"])
                guard let name = string(entry, "name", path: path + ".name"),
                      let deviceName = string(entry, "device", path: path + ".device"),
                      let index = device(deviceName, path: path + ".device", kinds: [.loops]),
                      let line = integer(entry, "line", path: path + ".line", in: 0...65535) else { continue }
                let modeText = string(entry, "mode", path: path + ".mode", required: false) ?? "presence"
                guard let mode = LaneLayout.Loop.Mode(rawValue: modeText) else {
                    fail(path + ".mode", "must be \"presence\" or \"pulse\", got \"\(modeText)\"")
                    continue
                }
                if laneLoops[name] != nil { fail(path + ".name", "loop \"\(name)\" is defined twice in lane \"\(laneName)\"") }
                if layout.loops.contains(where: { $0.device == index && $0.line == UInt16(line) }) {
                    fail(path + ".line", "\(deviceName) line \(line) is already used by another loop")
                }
                var loop = LaneLayout.Loop(name: "\(laneName)/\(name)", lane: laneName, device: index, line: UInt16(line), mode: mode)
                loop.debounce = duration(entry, "debounce", path: path + ".debounce", in: 0...(.seconds(5))) ?? loop.debounce
                loop.loopLength = double(entry, "loop_length_m", path: path + ".loop_length_m", in: 0...50) ?? loop.loopLength
                loop.noActivityAfter = duration(entry, "no_activity", path: path + ".no_activity", in: 0...(.minutes(7 * 24 * 60))) ?? loop.noActivityAfter
                loop.maxPresence = duration(entry, "max_presence", path: path + ".max_presence", in: 0...(.minutes(24 * 60))) ?? loop.maxPresence
                loop.maxActuationsPerMinute = integer(entry, "max_actuations_per_minute", path: path + ".max_actuations_per_minute", in: 0...6000) ?? loop.maxActuationsPerMinute
                laneLoops[name] = LoopIndex(layout.loops.count)
                layout.loops.append(loop)
            }
            for (t, entry) in tables(lane, "speed_traps", path: lanePath + ".speed_traps").enumerated() {
                let path = "\(lanePath).speed_traps[\(t)]"
                checkKeys(entry, path: path, allowed: ["upstream", "downstream", "spacing_m", "max_travel"])
                guard let up = string(entry, "upstream", path: path + ".upstream"),
                      let down = string(entry, "downstream", path: path + ".downstream"),
                      let spacing = double(entry, "spacing_m", path: path + ".spacing_m", in: 0.1...100) else { continue }
                guard let u = laneLoops[up] else { fail(path + ".upstream", "no loop named \"\(up)\" in lane \"\(laneName)\""); continue }
                guard let d = laneLoops[down] else { fail(path + ".downstream", "no loop named \"\(down)\" in lane \"\(laneName)\""); continue }
                if u == d { fail(path, "upstream and downstream must be different loops"); continue }
                if layout.speedTraps.contains(where: { $0.downstream == d }) { fail(path + ".downstream", "loop \"\(down)\" is already the downstream loop of a speed trap") }
                layout.speedTraps.append(LaneLayout.SpeedTrap(
                    upstream: u, downstream: d, spacing: spacing,
                    maxTravelTime: duration(entry, "max_travel", path: path + ".max_travel", in: .milliseconds(1)...(.seconds(60))) ?? .seconds(5)))
            }
            if let rule = readPassage(lane, lane: laneName, path: lanePath + ".passage", loops: laneLoops, layout: layout) {
                layout.passages.append(rule)
            }
        }
        return layout
    }

    // MARK: typed access the generic readers of TOMLFieldReader do not cover

    mutating func double(_ t: TOMLTable, _ key: String, path: String, in range: ClosedRange<Double>) -> Double? {
        guard let v = t[key] else { return nil }
        guard let d = v.double ?? v.int.map(Double.init), range.contains(d) else {
            fail(path, "must be a number from \(formatFixed(range.lowerBound, decimals: 1)) to \(formatFixed(range.upperBound, decimals: 1)), got \(v.debugDescription.excerpt)")
            return nil
        }
        return d
    }

    mutating func duration(_ t: TOMLTable, _ key: String, path: String, in range: ClosedRange<Nanoseconds>) -> Nanoseconds? {
        guard let v = t[key] else { return nil }
        let parsed: Nanoseconds?
        if let s = v.string { parsed = parseDuration(s) }
        else if let n = v.int, n >= 0, case let (ns, overflow) = Nanoseconds(n).multipliedReportingOverflow(by: 1_000_000_000), !overflow {
            parsed = ns
        }
        else if let d = v.double { parsed = d >= 0 && d < 9e9 ? Nanoseconds((d * 1e9).rounded()) : nil }
        else { parsed = nil }
        guard let parsed, range.contains(parsed) else {
            fail(path, "must be a duration from \(describe(range.lowerBound)) to \(describe(range.upperBound)) such as \"3s\", \"500ms\" or \"5min\", got \(v.debugDescription.excerpt)")
            return nil
        }
        return parsed
    }

    mutating func byteSize(_ t: TOMLTable, _ key: String, path: String, in range: ClosedRange<Int64>) -> Int64? {
        guard let v = t[key] else { return nil }
        let parsed = v.string.flatMap(parseByteSize) ?? v.int.flatMap { $0 >= 0 ? Int64($0) : nil }
        guard let parsed, range.contains(parsed) else {
            fail(path, "must be a size from \(range.lowerBound) to \(range.upperBound) bytes such as \"512MiB\" or \"2GiB\", got \(v.debugDescription.excerpt)")
            return nil
        }
        return parsed
    }

    func describe(_ ns: Nanoseconds) -> String {
        if ns == 0 { return "0" }
        if ns % .minutes(1) == 0 { return "\(ns / .minutes(1))min" }
        if ns % .seconds(1) == 0 { return "\(ns / .seconds(1))s" }
        return "\(ns / .milliseconds(1))ms"
    }
}
