// swift-tools-version: 6.0
// FedArena: a federated-learning arena for poisoning attacks and defenses.
import PackageDescription

/// Settings shared by every Swift target (swift-log / Hummingbird style: one list, one loop).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

var targets: [Target] = [
    // One C library per wrapper target (GRDB-style module maps).
    .systemLibrary(name: "CZeroMQ", path: "Sources/CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
    .systemLibrary(
        name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
        providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
    // prctl(2) is variadic: a static inline wrapper makes it callable from Swift (no library).
    .systemLibrary(name: "CProcessControl", path: "Sources/CProcessControl"),

    .target(name: "FedArenaCore"),
    .target(name: "FedArenaNumerics", dependencies: ["FedArenaCore", "COpenBLAS"]),
    .target(name: "FedArenaData", dependencies: ["FedArenaCore", "FedArenaNumerics", "CZlib"]),
    .target(name: "FedArenaModels", dependencies: ["FedArenaCore", "FedArenaNumerics", "FedArenaData"]),
    .target(
        name: "FedArenaWire",
        dependencies: ["FedArenaCore", "CZeroMQ", .product(name: "Crypto", package: "swift-crypto")]),
    .target(
        name: "FedArenaSynthesis",
        dependencies: ["FedArenaCore", "FedArenaNumerics", "FedArenaData", "FedArenaModels", "CZlib"]),
    .target(
        name: "FedArenaAttacks",
        dependencies: ["FedArenaCore", "FedArenaNumerics", "FedArenaData", "FedArenaModels", "FedArenaSynthesis"]),
    .target(
        name: "FedArenaDefenses",
        dependencies: ["FedArenaCore", "FedArenaNumerics", "FedArenaData", "FedArenaModels"]),
    .target(name: "FedArenaReports", dependencies: ["FedArenaCore", "FedArenaNumerics"]),
    .target(
        name: "FedArenaRuntime",
        dependencies: [
            "FedArenaCore", "FedArenaNumerics", "FedArenaData", "FedArenaModels", "FedArenaWire",
            "FedArenaDefenses", "FedArenaReports", "FedArenaAttacks", "FedArenaSynthesis",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
    .target(
        name: "FedArenaScenarios",
        dependencies: [
            "FedArenaRuntime", "FedArenaData", "CProcessControl",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Subprocess", package: "swift-subprocess"),
            .product(name: "SystemPackage", package: "swift-system"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
    .target(name: "FedArenaTesting", dependencies: ["FedArenaCore", "FedArenaNumerics"]),
    .executableTarget(
        name: "fedarena",
        dependencies: [
            "FedArenaCore", "FedArenaNumerics", "FedArenaData", "FedArenaModels", "FedArenaWire",
            "FedArenaDefenses", "FedArenaRuntime", "FedArenaScenarios", "FedArenaReports", "FedArenaAttacks",
            "FedArenaSynthesis", "FedArenaTesting",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

    .testTarget(name: "FedArenaCoreTests", dependencies: ["FedArenaCore"]),
    .testTarget(name: "FedArenaNumericsTests", dependencies: ["FedArenaNumerics", "FedArenaTesting"]),
    .testTarget(name: "FedArenaDataTests", dependencies: ["FedArenaData", "FedArenaTesting"]),
    .testTarget(name: "FedArenaModelsTests", dependencies: ["FedArenaModels", "FedArenaTesting"]),
    .testTarget(name: "FedArenaWireTests", dependencies: ["FedArenaWire", "FedArenaTesting"]),
    .testTarget(name: "FedArenaDefensesTests", dependencies: ["FedArenaDefenses", "FedArenaTesting"]),
    .testTarget(name: "FedArenaReportsTests", dependencies: ["FedArenaReports"]),
    .testTarget(name: "FedArenaSynthesisTests", dependencies: ["FedArenaSynthesis", "FedArenaTesting"]),
    .testTarget(name: "FedArenaAttacksTests", dependencies: ["FedArenaAttacks", "FedArenaTesting", "FedArenaDefenses", "FedArenaSynthesis"]),
    .testTarget(
        name: "FedArenaRuntimeTests",
        dependencies: [
            "FedArenaRuntime", "FedArenaTesting", "FedArenaWire", "FedArenaModels", .product(name: "Crypto", package: "swift-crypto"),
        ]),
    .testTarget(name: "FedArenaScenariosTests", dependencies: ["FedArenaScenarios", "FedArenaRuntime", "FedArenaData"]),
    // Drives the built `fedarena` binary: real processes, real ZeroMQ over loopback.
    .testTarget(
        name: "FedArenaEndToEndTests",
        dependencies: [
            "fedarena", "FedArenaCore", "FedArenaScenarios", "FedArenaWire", "FedArenaData", "FedArenaTesting",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams"),
        ]),
]

for index in targets.indices where targets[index].type != .system {
    targets[index].swiftSettings = (targets[index].swiftSettings ?? []) + swiftSettings
}

let package = Package(
    name: "FedArena",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fedarena", targets: ["fedarena"]),
        .library(name: "FedArenaCore", targets: ["FedArenaCore"]),
        .library(name: "FedArenaDefenses", targets: ["FedArenaDefenses"]),
        .library(name: "FedArenaRuntime", targets: ["FedArenaRuntime"]),
        // For the libFuzzer package in Tests/Fuzz (built only by Tests/Fuzz/run.sh).
        .library(name: "FedArenaWire", targets: ["FedArenaWire"]),
        .library(name: "FedArenaScenarios", targets: ["FedArenaScenarios"]),
        .library(name: "FedArenaTesting", targets: ["FedArenaTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: targets,
    swiftLanguageModes: [.v6]
)
