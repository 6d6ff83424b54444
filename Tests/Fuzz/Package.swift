// swift-tools-version: 6.0
// libFuzzer targets for FedArena, kept out of the main package so `swift test` never builds
// them. Build and run with Tests/Fuzz/run.sh (swiftc -sanitize=fuzzer,address on Linux).
import PackageDescription

let package = Package(
    name: "FedArenaFuzz",
    dependencies: [.package(name: "FedArena", path: "../..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        .executableTarget(
            name: "FuzzWireDecoder",
            dependencies: ["CFuzzerDriver", .product(name: "FedArenaWire", package: "FedArena")]),
        .executableTarget(
            name: "FuzzScenarioParser",
            dependencies: [
                "CFuzzerDriver",
                .product(name: "FedArenaScenarios", package: "FedArena"),
                .product(name: "FedArenaRuntime", package: "FedArena"),
                .product(name: "FedArenaCore", package: "FedArena"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
