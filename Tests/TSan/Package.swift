// swift-tools-version: 6.1
// ThreadSanitizer's build. `swift test --sanitize=thread` in the project's own package would
// instrument and compile every module and every test target. What TSan has to look at is the code
// the compiler cannot check for races: the lock-free ring, the loop and tag-visit state shared
// with the pipeline thread, and the spool's pthread lock and threads. Those tests need LaneCore,
// LaneWire, LaneSQLite and LaneSpool, and no server stack. This package names only their test
// targets: each folder here links to the project's own, so the tests are the same files, and the
// project's modules (LaneTestSupport too) come in by path.
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
    ],
    targets: [
        .testTarget(name: "LaneCoreTests", dependencies: [project("LaneCore")], path: "LaneCoreTests"),
        .testTarget(name: "LaneSpoolTests", dependencies: [
            project("LaneSpool"), project("LaneWire"), project("LaneSQLite"), project("LaneTestSupport")], path: "LaneSpoolTests"),
    ],
    swiftLanguageModes: [.v6]
)
