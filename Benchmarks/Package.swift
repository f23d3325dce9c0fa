// swift-tools-version: 6.1
// package-benchmark suites for lanegate, in a package of their own so that the project's build
// and test runs never compile the benchmark framework. Run: `swift package benchmark` here.
import Foundation
import PackageDescription

// A path dependency is named after its folder, which is whatever the checkout is called.
let projectFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "lanegate-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    ],
    targets: [
        .executableTarget(
            name: "LaneBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LaneCore", package: projectFolder),
                .product(name: "LaneWire", package: projectFolder),
                .product(name: "LaneSimulators", package: projectFolder),
                .product(name: "LaneSpool", package: projectFolder),
                .product(name: "LaneDevices", package: projectFolder),
                .product(name: "LaneAnalytics", package: projectFolder),
                .product(name: "LaneCollector", package: projectFolder),
                .product(name: "LanePostgres", package: projectFolder),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            path: "Benchmarks/LaneBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
