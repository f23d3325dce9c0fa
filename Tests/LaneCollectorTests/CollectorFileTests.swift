import Foundation
import LaneCollector
import Testing

/// The collector's settings file: a `[store]` table read whole, every mistake named with its line.
@Suite struct CollectorFileTests {
    @Test func aStoreTableGivesTheStoresSettings() throws {
        let postgres = try CollectorFile.parse("""
            # the border's database
            [store]
            url = "postgres://lanegate@db.example/lanegate?sslmode=verify-full"
            password_file = "/etc/lanegate-collector/db-password"
            retention_days = 400
            """, file: "collector.toml")
        #expect(postgres.store == CollectorFile.Store(url: "postgres://lanegate@db.example/lanegate?sslmode=verify-full",
                                                      passwordFile: "/etc/lanegate-collector/db-password", retentionDays: 400))
        let sqlite = try CollectorFile.parse("[store]\nurl = \"sqlite:/var/lib/lanegate-collector/events.db\"\n", file: "c.toml")
        #expect(sqlite.store == CollectorFile.Store(url: "sqlite:/var/lib/lanegate-collector/events.db"))
        #expect(try CollectorFile.parse("", file: "c.toml") == CollectorFile(), "no file settings: the defaults")
    }

    @Test func everyMistakeIsNamedWithItsLineAndNoPasswordIsShown() {
        let bad = """
            [store]
            url = "mysql://db/lanegate"
            password = "hunter2-not-for-files"
            retention_days = 0
            retention = 30

            [server]
            port = 8443
            """
        #expect { try CollectorFile.parse(bad, file: "collector.toml") } throws: { error in
            let text = "\(error)"
            return text.contains("collector.toml:2: store.url: must be sqlite:PATH or postgres://USER@HOST/DATABASE")
                && text.contains("collector.toml:3: store.password: a password does not go in this file")
                && text.contains("collector.toml:4: store.retention_days: must be a whole number from 1 to 36600")
                && text.contains("collector.toml:5: store.retention: unknown key")
                && text.contains("collector.toml:7: server: unknown key")
                && !text.contains("hunter2")
        }
        // Settings that only a PostgreSQL store has, given to SQLite.
        #expect { try CollectorFile.parse("[store]\nurl = \"sqlite:/tmp/e.db\"\nretention_days = 9\npassword_file = \"/p\"\n", file: "c.toml") } throws: {
            "\($0)".contains("c.toml:3: store.retention_days: applies to a PostgreSQL store") && "\($0)".contains("c.toml:4: store.password_file: applies")
        }
        #expect { try CollectorFile.parse("[store\nurl = 1", file: "c.toml") } throws: { "\($0)".contains("c.toml:1: not valid TOML") }
        #expect { try CollectorFile.parse("store = \"sqlite:/x\"", file: "c.toml") } throws: { "\($0)".contains("store: must be a table") }
    }

    @Test func webhookTablesNameTheirReceiversScopesAndSecretFiles() throws {
        let file = try CollectorFile.parse("""
            [[webhook]]
            name = "sonora-c5"
            url = "https://c5.sonora.example/lanegate/alarms"
            secret_file = "/etc/lanegate-collector/webhook-sonora-c5.secret"
            ports = ["nogales-nb"]
            kinds = ["seal_tampered", "transit_overdue"]
            ca_file = "/etc/ssl/sonora-ca.pem"
            max_attempts = 5

            [[webhook]]
            name = "operations"
            url = "http://127.0.0.1:9000/alarms"
            secret_file = "/etc/lanegate-collector/webhook-operations.secret"
            allow_plain_http = true
            """, file: "collector.toml")
        #expect(file.webhooks == [
            CollectorFile.WebhookEntry(name: "sonora-c5", url: "https://c5.sonora.example/lanegate/alarms",
                                       secretFile: "/etc/lanegate-collector/webhook-sonora-c5.secret", ports: ["nogales-nb"],
                                       kinds: [.sealTampered, .transitOverdue], caFile: "/etc/ssl/sonora-ca.pem", maxAttempts: 5),
            CollectorFile.WebhookEntry(name: "operations", url: "http://127.0.0.1:9000/alarms",
                                       secretFile: "/etc/lanegate-collector/webhook-operations.secret", ports: nil, kinds: nil,
                                       caFile: nil, maxAttempts: 12),
        ])
        let operations = file.webhooks[1].webhook(secret: Array("0123456789abcdef".utf8))
        #expect(operations.scope == .admin && operations.kinds == nil)
        #expect(file.webhooks[0].webhook(secret: []).scope == .ports(["nogales-nb"]))
    }

    @Test func aWebhookMistakeIsNamedWithItsLineAndNoSecretIsShown() {
        let bad = """
            [[webhook]]
            name = "plain"
            url = "http://c5.example/alarms"
            secret_file = "/s"
            [[webhook]]
            name = "plain"
            url = "https://c5.example/alarms"
            secret = "hunter2-not-for-files"
            kinds = ["fire"]
            max_attempts = 0
            [[webhook]]
            name = "no spaces"
            url = "https://c5.example/alarms"
            secret_file = "/s"
            """
        #expect { try CollectorFile.parse(bad, file: "collector.toml") } throws: { error in
            let text = "\(error)"
            return text.contains("collector.toml:3: webhook[0].url: must be an https:// URL (plain http needs allow_plain_http = true)")
                && text.contains("collector.toml:6: webhook[1].name: another webhook is named \"plain\"")
                && text.contains("collector.toml:8: webhook[1].secret: a secret does not go in this file")
                && text.contains("collector.toml:9: webhook[1].kinds: \"fire\" is no alarm kind")
                && text.contains("collector.toml:10: webhook[1].max_attempts: must be a whole number from 1 to 1000")
                && text.contains("collector.toml:5: webhook[1].secret_file: missing")
                && text.contains("collector.toml:12: webhook[2].name: letters, digits")
                && !text.contains("unknown key")
                && !text.contains("hunter2")
        }
    }
}

/// Files saved with Windows line ends: Swift reads "\r\n" as one Character, so splitting at "\n"
/// alone made the whole file one line (a token list refused, a webhook secret with its line end).
@Suite struct WindowsLineEndTests {
    @Test func tokenFilesReadTheSameWithEitherLineEnd() throws {
        let unix = "gw-a token-aaaaaaaaaaaaaaaa\ngw-b token-bbbbbbbbbbbbbbbb\n"
        let windows = unix.replacingOccurrences(of: "\n", with: "\r\n")
        for text in [unix, windows] {
            let tokens = try GatewayTokens(text: text, file: "gateways")
            #expect(tokens.gateway(for: "token-aaaaaaaaaaaaaaaa") == "gw-a" && tokens.gateway(for: "token-bbbbbbbbbbbbbbbb") == "gw-b")
        }
        let readers = try ReadTokens(text: "ops reader-token-0123456789 admin\r\npublic feed-token-0123456789 public\r\n", file: "readers")
        #expect(readers.reader(for: "reader-token-0123456789")?.name == "ops")
        #expect(readers.reader(for: "feed-token-0123456789")?.name == "public")
    }
}
