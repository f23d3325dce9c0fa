import LaneCore
import LaneDevices
import TOMLKit
import LaneTOML

/// A `kind = "camera"` device: what it pushes and where its token is. The token is read at
/// start, so it never sits in the configuration file.
public struct PlateCameraSetup: Sendable, Hashable {
    public var device: DeviceIndex
    public var format: PlateCamera.Format
    public var tokenFile: String

    public init(device: DeviceIndex, format: PlateCamera.Format, tokenFile: String) {
        self.device = device
        self.format = format
        self.tokenFile = tokenFile
    }

    /// The camera as the listener knows it. A token file's first line is the token: at least
    /// 16 characters, since the booth LAN is not trusted either.
    public func camera(name: String) throws -> PlateCamera {
        let text: String
        do { text = try readTextFile(tokenFile) } catch {
            throw ConfigError(file: tokenFile, line: nil, key: nil, message: "cannot read camera \(name)'s token: \(error)")
        }
        let token = text.firstLineTrimmed
        guard token.count >= 16 else {
            throw ConfigError(file: tokenFile, line: 1, key: nil, message: "camera \(name)'s token must be at least 16 characters")
        }
        return PlateCamera(device: device, name: name, format: format, token: token)
    }
}

extension ConfigReader {
    mutating func readCamera(_ entry: TOMLTable, device: DeviceIndex, path: String) -> (PlateCameraSetup?, keepsRaw: Bool) {
        checkKeys(entry, path: path, allowed: ["name", "kind", "format", "token_file", "raw_plates"])
        let keepsRaw = bool(entry, "raw_plates", path: path + ".raw_plates") ?? false
        let formatText = string(entry, "format", path: path + ".format") ?? ""
        let format = PlateCamera.Format(rawValue: formatText)
        if format == nil, entry["format"] != nil {
            fail(path + ".format", "must be one of \(PlateCamera.Format.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(formatText)\"")
        }
        let tokenFile = string(entry, "token_file", path: path + ".token_file")
        if let tokenFile, !tokenFile.hasPrefix("/") { fail(path + ".token_file", "must be an absolute path, got \"\(tokenFile)\"") }
        guard let format, let tokenFile else { return (nil, keepsRaw) }
        return (PlateCameraSetup(device: device, format: format, tokenFile: tokenFile), keepsRaw)
    }

    /// `[plate_listener]`: where the cameras push. It must name one address: the booth LAN's,
    /// never every interface of the box.
    mutating func readPlateListener(_ root: TOMLTable, cameras: Int) -> PlateListener.Settings? {
        guard let table = table(root, "plate_listener", path: "plate_listener", required: false) else {
            if cameras > 0 { fail("plate_listener", "camera devices push to the gateway: add [plate_listener] with listen = \"<booth LAN address>:<port>\"") }
            return nil
        }
        checkKeys(table, path: "plate_listener", allowed: ["listen", "max_body"])
        guard let listen = string(table, "listen", path: "plate_listener.listen") else { return nil }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (1...65535).contains(port), colon > listen.startIndex else {
            fail("plate_listener.listen", "must be \"address:port\" such as \"192.168.10.2:8480\", got \"\(listen)\"")
            return nil
        }
        let host = String(listen[..<colon].filter { $0 != "[" && $0 != "]" })
        if ["0.0.0.0", "::", "*", ""].contains(host) {
            fail("plate_listener.listen", "must name the booth LAN's address, not every interface (\(host.isEmpty ? "empty" : host))")
        }
        var settings = PlateListener.Settings(host: host, port: port)
        if let bytes = byteSize(table, "max_body", path: "plate_listener.max_body", in: (64 << 10)...(64 << 20)) {
            settings.maxBodyBytes = Int(bytes)
        }
        return settings
    }
}
