// swift-tools-version: 6.1
// lanegate: the lane-hardware gateway for land ports of entry, and its central collector.
// Module arrows point one way; see the README's "Design" section.
import PackageDescription

let package = Package(
    name: "lanegate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lanegate", targets: ["lanegate"]),
        .library(name: "LaneCore", targets: ["LaneCore"]),
        .library(name: "LaneWire", targets: ["LaneWire"]),
        .library(name: "LaneSimulators", targets: ["LaneSimulators"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // C: system libraries through pkg-config, and the few kernel calls Glibc does not export.
        .target(name: "CLaneSystem"),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLibUSB", pkgConfig: "libusb-1.0", providers: [.apt(["libusb-1.0-0-dev"])]),
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // The vocabulary and the pure pipeline: detections, instants, the SPSC ring, dedup, batching.
        .target(
            name: "LaneCore",
            dependencies: ["CLaneSystem", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The contract with the collector: protobuf schema, batch encode/decode, zstd.
        .target(
            name: "LaneWire",
            dependencies: ["LaneCore", "CZstd", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["lanegate.proto"]
        ),
        // A thin layer over Debian's libsqlite3, shared by the spool and the collector's store.
        .target(name: "LaneSQLite", dependencies: ["CSQLite"]),
        // The durable queue between batcher and uplink.
        .target(name: "LaneSpool", dependencies: ["LaneCore", "LaneWire", "LaneSQLite"]),
        // Composition: configuration and the commands' work.
        .target(
            name: "LaneGateway",
            dependencies: ["LaneCore", "LaneWire", "LaneSpool", "TOMLKit"]
        ),
        // The other side of every wire: synthetic traffic now, device-side protocol simulators next.
        .target(name: "LaneSimulators", dependencies: ["LaneCore"]),
        .executableTarget(
            name: "lanegate",
            dependencies: ["LaneGateway", "LaneSpool", "LaneWire", "LaneSimulators", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        .testTarget(name: "LaneCoreTests", dependencies: ["LaneCore"]),
        .testTarget(name: "LaneWireTests", dependencies: ["LaneWire", .product(name: "SwiftProtobuf", package: "swift-protobuf")], exclude: ["Golden"]),
        .testTarget(name: "LaneSpoolTests", dependencies: ["LaneSpool", "LaneWire", "LaneSQLite"]),
        .testTarget(name: "LaneGatewayTests", dependencies: ["LaneGateway", "LaneSimulators"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
