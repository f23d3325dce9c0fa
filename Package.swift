// swift-tools-version: 6.1
// lanegate: the lane-hardware gateway for land ports of entry, and its central collector.
// Module arrows point one way; see the README's "Design" section.
import PackageDescription

// The installed libgpiod, unless a build names another: Tests/HIL's libgpiod 2 build links
// Debian 13's as "gpiod2", which no system library directory earlier on the line can shadow.
let gpiodLibrary = Context.environment["LANEGATE_GPIOD_LIBRARY"] ?? "gpiod"

let package = Package(
    name: "lanegate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lanegate", targets: ["lanegate"]),
        .executable(name: "lanegate-collector", targets: ["lanegate-collector"]),
        .library(name: "LaneCore", targets: ["LaneCore"]),
        .library(name: "LaneWire", targets: ["LaneWire"]),
        .library(name: "LaneSimulators", targets: ["LaneSimulators"]),
        .library(name: "LaneSpool", targets: ["LaneSpool"]),
        .library(name: "LaneDevices", targets: ["LaneDevices"]),
        .library(name: "LaneAnalytics", targets: ["LaneAnalytics"]),
        .library(name: "LaneCollector", targets: ["LaneCollector"]),
        .library(name: "LanePostgres", targets: ["LanePostgres"]),
        // For Tests/TSan, whose tests reach these modules from a package of their own.
        .library(name: "LaneSQLite", targets: ["LaneSQLite"]),
        .library(name: "LaneUplink", targets: ["LaneUplink"]),
        .library(name: "LaneTestSupport", targets: ["LaneTestSupport"]),
        .library(name: "LaneCollectorTestSupport", targets: ["LaneCollectorTestSupport"]),
        .library(name: "LaneHTTPGuard", targets: ["LaneHTTPGuard"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0", traits: []),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0", traits: []),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
    ],
    targets: [
        // C: system libraries through pkg-config, and the few kernel calls Glibc does not export.
        .target(name: "CLaneSystem"),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLibUSB", pkgConfig: "libusb-1.0", providers: [.apt(["libusb-1.0-0-dev"])]),
        // libgpiod 1 or 2 behind one interface; the installed <gpiod.h> decides (libgpiod-dev).
        .target(name: "CGPIOLines", linkerSettings: [.linkedLibrary(gpiodLibrary)]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // The vocabulary and the pure pipeline: detections, instants, the SPSC ring, dedup, batching.
        .target(
            name: "LaneCore",
            dependencies: ["CLaneSystem", "CLibCrypto"]
        ),
        // The contract with the collector: protobuf schema, batch encode/decode, zstd.
        .target(
            name: "LaneWire",
            dependencies: ["LaneCore", "CZstd", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["lanegate.proto"]
        ),
        // Configuration files: where in a TOML file a key was written, and errors that say so.
        .target(name: "LaneTOML", dependencies: ["TOMLKit"]),
        // Border delay from stored tag visits: trips, filters, bins, the live estimate. Pure.
        .target(name: "LaneAnalytics"),
        // A thin layer over Debian's libsqlite3, shared by the spool and the collector's store.
        .target(name: "LaneSQLite", dependencies: ["CSQLite"]),
        // Transports (tty, TCP, libusb, libgpiod), protocol codecs and drivers, device supervision;
        // the plate cameras' push formats.
        .target(name: "LaneDevices", dependencies: ["LaneCore", "CLaneSystem", "CLibUSB", "CGPIOLines"]),
        // The durable queue between batcher and uplink.
        .target(name: "LaneSpool", dependencies: ["LaneCore", "LaneWire", "LaneSQLite"]),
        // Delivering spooled batches to the collector over HTTP(S).
        .target(
            name: "LaneUplink",
            dependencies: ["LaneSpool", "LaneWire", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl")]
        ),
        // Bounds on an HTTP server's connections (count, slow heads and bodies, idle keep-alive):
        // the collector's and the booth's plate listener.
        .target(
            name: "LaneHTTPGuard",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "NIOHTTPTypes", package: "swift-nio-extras")]
        ),
        // The central server: receive, verify, store, query, raise and deliver alarms.
        .target(
            name: "LaneCollector",
            dependencies: ["LaneWire", "LaneSQLite", "LaneAnalytics", "LaneTOML", "TOMLKit", "LaneHTTPGuard",
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdCore", package: "hummingbird"),
                           .product(name: "HummingbirdTLS", package: "hummingbird"),
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
        // The collector's store on PostgreSQL, for several collectors on one database. Only
        // lanegate-collector links it: the daemon's `demo` embeds the collector on SQLite.
        .target(
            name: "LanePostgres",
            dependencies: ["LaneCollector", "LaneWire", "LaneAnalytics", "LaneCore",
                           .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
        .executableTarget(
            name: "lanegate-collector",
            dependencies: ["LaneCollector", "LanePostgres", "LaneAnalytics", "LaneCore", "LaneTOML", "LaneHTTPGuard", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                           .product(name: "HummingbirdTLS", package: "hummingbird"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "Prometheus", package: "swift-prometheus")]
        ),
        // Composition: configuration and the commands' work.
        .target(
            name: "LaneGateway",
            dependencies: ["LaneCore", "CLaneSystem", "LaneWire", "LaneSpool", "LaneDevices", "LaneUplink", "LaneTOML", "TOMLKit", "LaneHTTPGuard",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "Prometheus", package: "swift-prometheus")]
        ),
        // The other side of every wire: synthetic traffic, and the device side of each protocol.
        .target(name: "LaneSimulators", dependencies: ["LaneCore", "CLaneSystem"]),
        .executableTarget(
            name: "lanegate",
            dependencies: ["LaneGateway", "LaneCore", "LaneSpool", "LaneUplink", "LaneWire", "LaneSimulators", "LaneDevices", "LaneCollector", "LaneAnalytics", "LaneTOML", "CLaneSystem",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "UnixSignals", package: "swift-service-lifecycle")]
        ),

        .testTarget(name: "LaneCoreTests", dependencies: ["LaneCore"]),
        .testTarget(name: "LaneAnalyticsTests", dependencies: ["LaneAnalytics", "LaneSimulators", "LaneTestSupport"]),
        .testTarget(name: "LaneDevicesTests", dependencies: ["LaneDevices", "LaneSimulators", "LaneCore", "LaneTestSupport"], exclude: ["Golden"]),
        .testTarget(name: "LaneWireTests", dependencies: ["LaneWire", .product(name: "SwiftProtobuf", package: "swift-protobuf")], exclude: ["Golden"]),
        .testTarget(name: "LaneSpoolTests", dependencies: ["LaneSpool", "LaneWire", "LaneSQLite", "LaneTestSupport"]),
        // What the test targets share: test batches, waiting, a test PKI, the built tools, tiny
        // filesystems, a PostgreSQL server. Libraries under Tests/, used by test targets only.
        .target(name: "LaneTestSupport", dependencies: ["LaneCore", "LaneWire"], path: "Tests/LaneTestSupport"),
        // A collector on loopback and HTTP helpers for it: apart, so that a test target without a
        // collector (the ThreadSanitizer build's) compiles neither it nor its server stack.
        .target(name: "LaneCollectorTestSupport", dependencies: [
            "LaneAnalytics", "LaneCollector", "LaneCore", "LaneSpool", "LaneWire", "LaneHTTPGuard", "LaneTestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                path: "Tests/LaneCollectorTestSupport"),
        // Every EventStore test, run against SQLite and against a PostgreSQL server of its own.
        .testTarget(name: "LaneStoreTests", dependencies: [
            "LaneCollector", "LanePostgres", "LaneAnalytics", "LaneCore", "LaneWire", "LaneSimulators", "LaneTestSupport", "LaneCollectorTestSupport",
            .product(name: "Logging", package: "swift-log"), .product(name: "Prometheus", package: "swift-prometheus")]),
        .testTarget(name: "LaneCollectorTests", dependencies: [
            "LaneCollector", "LaneAnalytics", "LaneUplink", "LaneSpool", "LaneWire", "LaneSQLite", "LaneSimulators", "LaneTestSupport", "LaneCollectorTestSupport",
            "LaneHTTPGuard", .product(name: "AsyncHTTPClient", package: "async-http-client")]),
        // The two programs end to end, as built: the daemon under a stand-in systemd, kill -9,
        // fault injection, the monitor, reload, and the hardware-in-the-loop guest.
        .testTarget(name: "LanegateTests", dependencies: [
            "LaneCollector", "LaneSpool", "LaneWire", "LaneSQLite", "LaneSimulators", "LaneCore", "LaneTestSupport", "LaneCollectorTestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client")]),
        .testTarget(name: "LaneGatewayTests", dependencies: ["LaneGateway", "LaneTOML", "LaneSimulators", "LaneSpool", "LaneWire", "LaneDevices",
                                                     "LaneTestSupport", .product(name: "Logging", package: "swift-log")],
                    exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)

// A member is usable only where its module is imported. TOMLKit imports Foundation, and without
// this one of Foundation's String methods, reached through it, linked all of ICU into the daemon.
for target in package.targets where [.regular, .executable].contains(target.type) {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}
