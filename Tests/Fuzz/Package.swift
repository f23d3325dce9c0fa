// swift-tools-version: 6.1
// Fuzz targets, kept out of the main package: built with -sanitize=fuzzer, they have no main of
// their own (libFuzzer supplies it), so a normal build of the project must not see them.
import Foundation
import PackageDescription

// A path dependency is named after its folder, which is whatever the checkout is called.
let projectFolder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "lanegate-fuzz",
    dependencies: [.package(path: "../..")],
    targets: [
        .target(
            name: "FuzzDriver",
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        ),
        .executableTarget(
            name: "FuzzBatchDecoder",
            dependencies: ["FuzzDriver", .product(name: "LaneWire", package: projectFolder)],
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        ),
        .executableTarget(
            name: "FuzzDeviceCodecs",
            dependencies: ["FuzzDriver", .product(name: "LaneDevices", package: projectFolder)],
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        ),
        .executableTarget(
            name: "FuzzPlateCodecs",
            dependencies: ["FuzzDriver", .product(name: "LaneDevices", package: projectFolder), .product(name: "LaneCore", package: projectFolder)],
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        ),
        .executableTarget(
            name: "FuzzTraceLine",
            dependencies: ["FuzzDriver", .product(name: "LaneCore", package: projectFolder)],
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        ),
        .executableTarget(
            name: "FuzzLLRPReader",
            dependencies: ["FuzzDriver", .product(name: "LaneDevices", package: projectFolder),
                           .product(name: "LaneSimulators", package: projectFolder)],
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
