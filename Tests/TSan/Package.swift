// swift-tools-version: 6.1
// ThreadSanitizer's build. `swift test --sanitize=thread` in the project's own package would
// instrument and compile every module and every test target; the ring, spool and uplink tests
// need about half of them (not PostgresNIO, the devices, the gateway or the programs). This
// package names only those test targets: each folder here links to the project's own, so the
// tests are the same files, and the project's modules come in by path.
import Foundation
import PackageDescription

// A path dependency is named after its folder, which is whatever the checkout is called.
let projectFolder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

func project(_ product: String) -> Target.Dependency { .product(name: product, package: projectFolder) }

let package = Package(
    name: "lanegate-tsan",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0", traits: []),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        .target(name: "LaneTestSupport", dependencies: [
            project("LaneAnalytics"), project("LaneCollector"), project("LaneCore"), project("LaneSpool"), project("LaneWire"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "LaneTestSupport"),
        .testTarget(name: "LaneCoreTests", dependencies: [project("LaneCore")], path: "LaneCoreTests"),
        .testTarget(name: "LaneSpoolTests", dependencies: [
            project("LaneSpool"), project("LaneWire"), project("LaneSQLite"), "LaneTestSupport"], path: "LaneSpoolTests"),
        .testTarget(name: "LaneCollectorTests", dependencies: [
            project("LaneCollector"), project("LaneAnalytics"), project("LaneUplink"), project("LaneSpool"),
            project("LaneWire"), project("LaneSQLite"), project("LaneSimulators"), "LaneTestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client")], path: "LaneCollectorTests"),
    ],
    swiftLanguageModes: [.v6]
)
