import Foundation

/// A test's own setup failed (a tool it runs, a server it starts), not what it tests.
public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A self-signed certificate for 127.0.0.1 made by the openssl tool: (certificate, key) paths.
public func selfSignedCertificate(in directory: String) async throws -> (String, String) {
    try await offThePool { () throws -> (String, String) in try makeSelfSignedCertificate(in: directory) }
}

private func makeSelfSignedCertificate(in directory: String) throws -> (String, String) {
    let cert = directory + "/cert.pem", key = directory + "/key.pem"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=lanegate-test-collector",
                         "-addext", "subjectAltName=IP:127.0.0.1"]
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw TestSetupError("openssl failed") }
    return (cert, key)
}

/// A test PKI made with the openssl tool: a CA, a server certificate for 127.0.0.1, and client
/// certificates whose common names are gateway ids. Returns the PEM paths by name
/// ("ca", "server", "server.key", "<gateway>", "<gateway>.key").
public func testPKI(in directory: String, gateways: [String]) async throws -> [String: String] {
    try await offThePool { () throws -> [String: String] in try makeTestPKI(in: directory, gateways: gateways) }
}

private func makeTestPKI(in directory: String, gateways: [String]) throws -> [String: String] {
    func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestSetupError("openssl \(arguments.first!) failed") }
    }
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    var paths = ["ca": directory + "/ca.pem"]
    try openssl(["req", "-x509"] + ec + ["-keyout", directory + "/ca.key", "-out", paths["ca"]!, "-days", "2", "-subj", "/CN=lanegate-test-ca"])
    func issue(_ name: String, subject: String, extensions: String) throws {
        let ext = directory + "/\(name).ext"
        try Data(extensions.utf8).write(to: URL(fileURLWithPath: ext))
        try openssl(["req"] + ec + ["-keyout", directory + "/\(name).key", "-out", directory + "/\(name).csr", "-subj", subject])
        try openssl(["x509", "-req", "-in", directory + "/\(name).csr", "-CA", paths["ca"]!, "-CAkey", directory + "/ca.key",
                     "-CAcreateserial", "-out", directory + "/\(name).pem", "-days", "2", "-extfile", ext])
        paths[name] = directory + "/\(name).pem"
        paths[name + ".key"] = directory + "/\(name).key"
    }
    try issue("server", subject: "/CN=lanegate-test-collector", extensions: "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    for gateway in gateways {
        try issue(gateway, subject: "/CN=\(gateway)", extensions: "extendedKeyUsage=clientAuth\n")
    }
    return paths
}
