import Foundation
import LaneCollector
import LaneCore
import LaneSpool
import LaneUplink
import NIOSSL
import Testing
import LaneCollectorTestSupport
import LaneTestSupport

/// With client certificates the gateway id is the certificate's common name.
@Suite("Mutual TLS")
struct MutualTLSTests {
    @Test func theCertificateNamesTheGatewayAndImpostorsAreRefused() async throws {
        let directory = temporaryDirectory()
        let pki = try await testPKI(in: directory, gateways: ["gw-a", "gw-x"])
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pki["server"]!).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki["server.key"]!, format: .pem)))
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pki["ca"]!))
        tls.certificateVerification = .noHostnameVerification

        @Sendable func uplink(for spool: Spool, certificate: String?, url: String) throws -> Uplink {
            try Uplink(spool: AsyncSpool(spool), settings: UplinkSettings(
                url: url + "/v1/batches", token: nil, caBundle: pki["ca"], clientCertificate: certificate.flatMap { pki[$0] },
                clientKey: certificate.flatMap { pki[$0 + ".key"] }, requestTimeout: .seconds(5),
                backoffBase: .milliseconds(20), backoffCap: .milliseconds(100), pollInterval: .milliseconds(20)))
        }
        @Sendable func spool(gateway: String, claiming: String) -> Spool {
            let spool = Spool(path: temporaryDirectory() + "/spool.db", gatewayID: gateway,
                              settings: SpoolSettings(minFreeDiskBytes: 0), nowUTC: 0)
            for _ in 0..<3 {
                let s = spool.nextSequence
                spool.commit(SpooledBatch(sequence: s, priority: false, events: 5, createdUTC: 0,
                                          body: encodedBatch(gateway: claiming, sequence: s)))
            }
            return spool
        }

        try await withCollector(tls: tls) { url, collector in
            /// Runs an uplink until the spool is empty or, when `refusalExpected`, until it has
            /// retried a few times (a loaded CI machine can be slow to shake hands, so an honest
            /// gateway is given until the spool is empty).
            func deliverAll(_ spool: Spool, certificate: String?, refusalExpected: Bool = true) async throws -> Uplink {
                let u = try uplink(for: spool, certificate: certificate, url: url)
                let task = Task { await u.run() }
                _ = await eventually(30) { spool.depth == 0 || (refusalExpected && u.statistics.retries >= 3) }
                task.cancel()
                await task.value
                try await u.shutdown()
                return u
            }
            // The right certificate: stored, with no token at all.
            let honest = spool(gateway: "gw-a", claiming: "gw-a")
            _ = try await deliverAll(honest, certificate: "gw-a", refusalExpected: false)
            #expect(honest.depth == 0)
            #expect(try await collector.store.eventCount(gateway: "gw-a") == 15)

            // gw-a's certificate, batches claiming gw-b: refused for good.
            let impostor = spool(gateway: "gw-b", claiming: "gw-b")
            _ = try await deliverAll(impostor, certificate: "gw-a")
            #expect(impostor.status().deadLetters == 3)
            #expect(try await collector.store.eventCount(gateway: "gw-b") == 0)

            // A certificate from the right CA for a gateway the collector does not know: refused.
            let stranger = spool(gateway: "gw-x", claiming: "gw-x")
            _ = try await deliverAll(stranger, certificate: "gw-x")
            #expect(stranger.status().deadLetters == 3)

            // No client certificate: the handshake fails, nothing is sent, the batches wait.
            let anonymous = spool(gateway: "gw-a", claiming: "gw-a")
            let u = try await deliverAll(anonymous, certificate: nil)
            #expect(anonymous.depth == 3 && u.statistics.retries >= 3)
        }
    }
}
