// swift-tools-version: 6.1
// ThreadSanitizer's build. `swift test --sanitize=thread` in the project's own package would
// instrument and compile every module and every test target; the ring, spool and uplink tests
// need about half of them (not PostgresNIO, the devices, the gateway or the programs). This
// package names only those test targets: each folder here links to the project's own, so the
// tests are the same files, and the project's modules (LaneTestSupport too) come in by path.
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
    ],
    targets: [
        .testTarget(name: "LaneCoreTests", dependencies: [project("LaneCore")], path: "LaneCoreTests"),
        .testTarget(name: "LaneSpoolTests", dependencies: [
            project("LaneSpool"), project("LaneWire"), project("LaneSQLite"), project("LaneTestSupport")], path: "LaneSpoolTests"),
        .testTarget(name: "LaneCollectorTests", dependencies: [
            project("LaneCollector"), project("LaneAnalytics"), project("LaneUplink"), project("LaneSpool"),
            project("LaneWire"), project("LaneSQLite"), project("LaneSimulators"), project("LaneTestSupport"),
            project("LaneHTTPGuard"), .product(name: "AsyncHTTPClient", package: "async-http-client")], path: "LaneCollectorTests"),
    ],
    swiftLanguageModes: [.v6]
)
