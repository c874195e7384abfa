// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Reel",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "reel", targets: ["reel"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(name: "CZeroMQ", path: "Sources/CZeroMQ"),
        .target(name: "ReelCore", dependencies: [.product(name: "TOMLKit", package: "TOMLKit")]),
        .target(name: "ReelPlan", dependencies: ["ReelCore"]),
        .target(
            name: "ReelSampler", dependencies: ["ReelCore", "ReelPlan", .product(name: "HeapModule", package: "swift-collections")]),
        .target(name: "ReelWire", dependencies: ["ReelCore"]),
        .target(name: "ReelStore", dependencies: ["ReelCore", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "ReelZMQ", dependencies: ["CZeroMQ"]),
        .target(name: "ReelStitch", dependencies: ["ReelCore", "ReelPlan"]),
        .target(
            name: "ReelCoordinator",
            dependencies: [
                "ReelCore", "ReelPlan", "ReelSampler", "ReelWire", "ReelZMQ", "ReelStore", "ReelStitch", "ReelMetrics",
                .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        .target(
            name: "ReelHTTP",
            dependencies: [
                "ReelCoordinator", "ReelStore", "ReelStitch", "ReelClient", "ReelPlan", "ReelWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"), .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .target(
            name: "ReelWorker",
            dependencies: [
                "ReelCore", "ReelPlan", "ReelSampler", "ReelWire", "ReelZMQ",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(name: "ReelMetrics", dependencies: ["ReelCore", "ReelPlan", "ReelSampler", "ReelStitch"]),
        .target(
            name: "ReelClient", dependencies: ["ReelCore", "ReelWire", "ReelZMQ", .product(name: "TOMLKit", package: "TOMLKit")]),
        .executableTarget(
            name: "reel",
            dependencies: [
                "ReelCore", "ReelPlan", "ReelSampler", "ReelWire", "ReelStore", "ReelZMQ", "ReelStitch", "ReelCoordinator", "ReelWorker",
                "ReelClient", "ReelMetrics", "ReelHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "ReelCoreTests", dependencies: ["ReelCore"]),
        .testTarget(name: "ReelPlanTests", dependencies: ["ReelCore", "ReelPlan", "ReelSampler", "ReelStitch"]),
        .testTarget(name: "ReelSamplerTests", dependencies: ["ReelCore", "ReelPlan", "ReelSampler"]),
        .testTarget(name: "ReelZMQTests", dependencies: ["ReelZMQ"]),
        .testTarget(name: "ReelMetricsTests", dependencies: ["ReelMetrics"]),
        .testTarget(name: "ReelWireTests", dependencies: ["ReelCore", "ReelWire"]),
        .testTarget(
            name: "ReelCoordinatorTests", dependencies: ["ReelCore", "ReelWire", "ReelCoordinator", "ReelPlan", "ReelSampler", "ReelStore"]),
        .testTarget(name: "ReelHTTPTests", dependencies: ["ReelHTTP", "ReelCoordinator", "ReelCore", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ReelStitchTests", dependencies: ["ReelCore", "ReelPlan", "ReelStitch"]),
        .testTarget(name: "ReelStoreTests", dependencies: ["ReelCore", "ReelPlan", "ReelStore"]),
        .testTarget(
            name: "ReelIntegrationTests",
            dependencies: [
                "reel", "ReelCore", "ReelPlan", "ReelSampler", "ReelWire", "ReelZMQ", "ReelStore", "ReelClient", "ReelStitch",
                "ReelMetrics", "ReelWorker", .product(name: "Crypto", package: "swift-crypto"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
