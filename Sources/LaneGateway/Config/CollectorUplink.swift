import LaneUplink

extension GatewayConfig.CollectorSettings {
    /// The uplink's settings for this `[collector]`: URL, identity (token file or client
    /// certificate), CA bundle, plain HTTP only when allowed. Reads the token file.
    public func uplinkSettings(requestTimeout: Duration = .seconds(30)) throws -> UplinkSettings {
        UplinkSettings(url: url, token: try tokenFile.map(readTokenFile), caBundle: caBundle,
                       clientCertificate: clientCertificate, clientKey: clientKey,
                       allowPlainHTTP: allowPlainHTTP, requestTimeout: requestTimeout)
    }
}
