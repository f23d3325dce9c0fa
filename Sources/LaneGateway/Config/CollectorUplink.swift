import LaneUplink
import LaneWire
import LaneTOML

extension GatewayConfig.CollectorSettings {
    /// The uplink's settings for this `[collector]`: URL, identity (token file or client
    /// certificate), CA bundle, plain HTTP only when allowed. Reads the token file.
    /// `dictionaryUse` is the one the gateway's encoder consults.
    public func uplinkSettings(requestTimeout: Duration = .seconds(30), dictionaryUse: DictionaryUse? = nil) throws -> UplinkSettings {
        var settings = UplinkSettings(url: url, token: try tokenFile.map(readTokenFile), caBundle: caBundle,
                                      clientCertificate: clientCertificate, clientKey: clientKey,
                                      allowPlainHTTP: allowPlainHTTP, requestTimeout: requestTimeout)
        settings.fallbackURLs = fallbackURLs
        settings.dictionaryUse = dictionaryUse
        return settings
    }
}

extension GatewayConfig {
    /// The files `[collector]` names that cannot be read, each as an error naming the key and the
    /// path: a configuration is not valid while the daemon could not use it.
    public func unreadableFiles(source: String) -> [ConfigError] {
        guard let collector else { return [] }
        let files: [(String, String?)] = [("token_file", collector.tokenFile), ("ca_bundle", collector.caBundle),
                                          ("client_certificate", collector.clientCertificate), ("client_key", collector.clientKey)]
        return files.compactMap { key, path in
            guard let path else { return nil }
            do {
                let bytes = try readFileBytes(path)
                if key == "token_file" && readTokenText(bytes).isEmpty {
                    return ConfigError(file: source, line: nil, key: "collector.\(key)", message: "\(path) is empty")
                }
                return nil
            } catch {
                return ConfigError(file: source, line: nil, key: "collector.\(key)", message: "cannot read \(error)")
            }
        }
    }
}
