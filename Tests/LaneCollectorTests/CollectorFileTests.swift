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
}
