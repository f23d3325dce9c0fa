import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import LaneCollector
import LaneCore
import Logging
import LaneTOML

/// `lanegate-collector gateways …`: the gateways the store's collectors accept, kept in the store
/// itself, so that every collector on one PostgreSQL agrees without copying token files around.
/// Only each token's SHA-256 is stored; a generated token is printed once, here.
struct Gateways: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, add or remove the gateways registered in the store (used by `serve` when it has no --tokens).",
        subcommands: [List.self, Add.self, Remove.self, Import.self])
    static let logger = Logger(label: "lanegate.collector.gateways")

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The registered gateways, and how each identifies itself.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let credentials = try await store.withStore(logger: Gateways.logger) {
                try await $0.registeredGateways()
            }
            for credential in credentials {
                print("\(credential.gateway)\t\(credential.tokenDigest == nil ? "client certificate only" : "token")")
            }
            if credentials.isEmpty { print("no gateways registered: lanegate-collector gateways add ID --store …") }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a gateway, or give it a new token. Without --token-file or --certificate-only, a new token is made and printed once.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The gateway's id, as its [gateway] id says.") var gateway: String
        @Option(help: "A file whose first line is the gateway's token (at least 16 characters).") var tokenFile: String?
        @Flag(help: "The gateway identifies itself by its client certificate (its common name is its id), with no token.")
        var certificateOnly = false

        func validate() throws {
            guard GatewayID.isValid(gateway) else {
                throw ValidationError("\"\(gateway)\" is not a gateway id: \(GatewayID.rule)")
            }
            guard tokenFile == nil || !certificateOnly else { throw ValidationError("--token-file and --certificate-only exclude each other") }
        }

        func run() async throws {
            var printed: String?
            let credential: GatewayCredential
            if certificateOnly {
                credential = GatewayCredential(gateway: gateway, tokenDigest: nil)
            } else if let tokenFile {
                let token = try Serve.read(tokenFile, "--token-file").firstLineTrimmed
                guard token.count >= 16, !token.contains(where: \.isWhitespace) else {
                    throw ValidationError("--token-file \(tokenFile): the first line must be a token of at least 16 characters, no spaces")
                }
                credential = GatewayCredential(gateway: gateway, token: token)
            } else {
                let token = Self.newToken()
                credential = GatewayCredential(gateway: gateway, token: token)
                printed = token
            }
            try await store.withStore(logger: Gateways.logger) { try await $0.register(credential) }
            if let printed {
                print(printed)
                let note = Array("gateway \(gateway) registered; its token is above, shown this once: put it in the gateway's [collector] token_file\n".utf8)
                _ = note.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            } else {
                print("gateway \(gateway) registered (\(certificateOnly ? "client certificate only" : "token from \(tokenFile ?? "")"))")
            }
        }

        /// 32 random bytes from the kernel's generator, as 64 hex digits.
        static func newToken() -> String {
            let digits = Array("0123456789abcdef")
            var generator = SystemRandomNumberGenerator()
            var token = ""
            for _ in 0..<32 {
                let byte = UInt8.random(in: .min ... .max, using: &generator)
                token.append(digits[Int(byte >> 4)])
                token.append(digits[Int(byte & 0x0F)])
            }
            return token
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Unregister a gateway: every collector on the store refuses it within 15 s. Its stored batches stay.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The gateway's id.") var gateway: String

        func run() async throws {
            let removed = try await store.withStore(logger: Gateways.logger) {
                try await $0.unregister(gateway: gateway)
            }
            guard removed else { throw ValidationError("no gateway \"\(gateway)\" is registered") }
            print("gateway \(gateway) removed")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register every gateway of a --tokens file (`gateway-id [token]` per line), to move from files to the store.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The tokens file.") var file: String

        func run() async throws {
            let tokens = try GatewayTokens(text: try Serve.read(file, "tokens file"), file: file)
            if let bad = tokens.credentials.first(where: { !GatewayID.isValid($0.gateway) }) {
                throw ValidationError("\(file): \"\(bad.gateway)\" is not a gateway id: \(GatewayID.rule)")
            }
            try await store.withStore(logger: Gateways.logger) { store in
                for credential in tokens.credentials { try await store.register(credential) }
            }
            print("\(tokens.credentials.count) gateways registered from \(file)")
        }
    }
}
