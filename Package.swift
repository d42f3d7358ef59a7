// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "VectorBlocks",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "KubeKit", targets: ["KubeKit"]),
        .library(name: "KubeSim", targets: ["KubeSim"]),
        .library(name: "OperatorKit", targets: ["OperatorKit"]),
        .executable(name: "kube-sim", targets: ["kube-sim"]),
        .executable(name: "vectorblocks-operator", targets: ["vectorblocks-operator"]),
        .executable(name: "kube-model-gen", targets: ["kube-model-gen"]),
        .executable(name: "vectorblocks-bench", targets: ["vectorblocks-bench"]),
        .library(name: "VectorBlocksAPI", targets: ["VectorBlocksAPI"]),
        .executable(name: "vectorblocks-gen", targets: ["vectorblocks-gen"]),
        .executable(name: "kbctl", targets: ["kbctl"]),
        .executable(name: "vectorblocks-playground", targets: ["vectorblocks-playground"]),
        .library(name: "VectorBlocksPackaging", targets: ["VectorBlocksPackaging"]),
        .library(name: "VectorBlocksPostgres", targets: ["VectorBlocksPostgres"]),
        .library(name: "VectorSync", targets: ["VectorSync"]),
        .library(name: "VectorSyncOptions", targets: ["VectorSyncOptions"]),
        .library(name: "ObjectStorage", targets: ["ObjectStorage"]),
        .executable(name: "pelican", targets: ["pelican"]),
        .executable(name: "emu", targets: ["emu"]),
        .executable(name: "vectorblocks-backup", targets: ["vectorblocks-backup"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.7.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        .target(name: "JSONValues"),
        .target(name: "ProcessSpawning"),
        .target(
            name: "KubeKit",
            dependencies: [
                "JSONValues", "ProcessSpawning",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "OperatorKit",
            dependencies: [
                "KubeKit", "OperationalHTTP",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "OperationalHTTP",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The generator writes KubeKit's models, so it must not depend on KubeKit: a broken generated file would then stop
        // the generator that repairs it from building. JSONValues is not generated.
        .target(name: "KubeModelGen", dependencies: ["JSONValues"]),
        .executableTarget(
            name: "kube-model-gen",
            dependencies: ["KubeModelGen", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(
            name: "KubeSim",
            dependencies: [
                "KubeKit", "ProcessSpawning",
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            resources: [.copy("Resources/swagger.json"), .copy("Resources/protobuf-schema.json"), .copy("Resources/enumerations.json")]
        ),
        .executableTarget(
            name: "kube-sim",
            dependencies: [
                "KubeSim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "vectorblocks-bench",
            dependencies: [
                "KubeKit", "KubeSim", "OperatorKit", "VectorBlocksAPI", "VectorBlocksPackaging", "VectorBlocksOperator", "VectorSync",
                "PipelineFixtures", "MiniLM", "PostgresBackup", "ObjectStorage", "VectorBlocksPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "KubeKit", "KubeSim", "ProcessSpawning", "VectorBlocksAPI", "VectorBlocksPackaging", "VectorBlocksOperator", "OperatorKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "KubeKitTests",
            dependencies: [
                "KubeKit", "KubeSim", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .target(name: "VectorBlocksAPI", dependencies: ["KubeKit"]),
        .target(
            name: "VectorBlocksPackaging",
            dependencies: ["KubeKit", "VectorBlocksAPI"],
            // The shipped CRDs are the generated YAML (vectorblocks-gen writes them here as well as to crds/), so a
            // built kbctl installs exactly what the repository holds, with no generator or OpenAPI document at run time.
            resources: [.copy("Addons/Scripts"), .copy("Resources/crds")]
        ),
        .target(
            name: "VectorBlocksOperator",
            dependencies: [
                "KubeKit", "OperatorKit", "VectorBlocksAPI", "VectorBlocksPostgres", "VectorSync", "ObjectStorage", "PostgresBackup",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "vectorblocks-operator",
            dependencies: [
                "KubeKit", "OperatorKit", "VectorBlocksOperator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "vectorblocks-gen",
            dependencies: ["VectorBlocksPackaging", "VectorBlocksAPI", "KubeKit", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(name: "VectorBlocksCLI", dependencies: ["KubeKit", "VectorBlocksAPI", "VectorBlocksPackaging"]),
        .target(
            name: "VectorBlocksPlayground",
            dependencies: [
                "KubeKit", "KubeSim", "OperatorKit", "VectorBlocksAPI", "VectorBlocksPackaging", "VectorBlocksOperator",
                "VectorBlocksCLI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "vectorblocks-playground",
            dependencies: [
                "VectorBlocksPlayground", "KubeSim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "kbctl",
            dependencies: [
                "KubeKit", "VectorBlocksAPI", "VectorBlocksPackaging", "VectorBlocksCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "VectorBlocksCLITests",
            dependencies: [
                "VectorBlocksCLI", "VectorBlocksPlayground", "VectorBlocksAPI", "VectorBlocksPackaging", "KubeKit", "KubeSim",
                "TestSupport",
            ],
            // Read from the repository by path, so a test can also rewrite them (VB_UPDATE_GOLDEN=1).
            exclude: ["Golden"]
        ),
        .testTarget(name: "KubeModelGenTests", dependencies: ["KubeModelGen", "JSONValues"]),
        .testTarget(
            name: "OperatorKitTests",
            dependencies: [
                "OperatorKit", "KubeKit", "KubeSim", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "VectorBlocksOperatorTests",
            dependencies: [
                "VectorBlocksOperator", "OperatorKit", "VectorBlocksAPI", "VectorBlocksPackaging", "KubeKit", "KubeSim", "TestSupport",
                "VectorSync", "PipelineFixtures", "ProcessSpawning",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            // Read from the repository by path, so a test can also rewrite them (VB_UPDATE_GOLDEN=1).
            exclude: ["Golden", "Fixtures"]
        ),
        .testTarget(
            name: "VectorBlocksAPITests",
            dependencies: ["VectorBlocksAPI", "VectorBlocksPackaging", "KubeKit", "KubeSim", "TestSupport", "ProcessSpawning"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "KubeSimTests",
            dependencies: [
                "KubeSim", "KubeKit", "TestSupport", "ProcessSpawning",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .target(
            name: "VectorBlocksPostgres",
            dependencies: [
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // S3 and the AWS signing and credentials it shares with VectorSync's SQS queue.
        .target(
            name: "ObjectStorage",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ObjectStorageTests",
            dependencies: [
                "ObjectStorage", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // pgvector's physical backups, WAL archive and restores, run in the cluster's pods by vectorblocks-backup.
        // zlib from the system (Debian's zlib1g-dev), linked dynamically: every PostgreSQL image has libz.so.1.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "PostgresBackup",
            dependencies: [
                "ObjectStorage", "CZlib", "ProcessSpawning",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "vectorblocks-backup",
            dependencies: [
                "PostgresBackup",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "PostgresBackupTests",
            dependencies: [
                "PostgresBackup", "ObjectStorage", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "VectorSync",
            dependencies: [
                "JSONValues", "VectorBlocksPostgres", "MiniLM", "ObjectStorage",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(
            name: "VectorSyncOptions",
            dependencies: [
                "VectorSync",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "pelican",
            dependencies: [
                "VectorSync", "VectorSyncOptions", "OperationalHTTP",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "emu",
            dependencies: [
                "VectorSync", "VectorSyncOptions", "OperationalHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "PipelineFixtures",
            dependencies: [
                "VectorSync", "KubeSim", "KubeKit", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/PipelineFixtures"
        ),
        .testTarget(
            name: "VectorSyncTests",
            dependencies: [
                "VectorSync", "TestSupport", "PipelineFixtures",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Foundation only: OpenBLAS (Debian's libopenblas0) is loaded at run time, see Sources/MiniLM/OpenBLAS.swift.
        .target(
            name: "MiniLM",
            // The encoder's element-wise loops are fast only optimised; unoptimised (a debug build, the tests') the
            // 1,000-text reference check alone would take minutes.
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        .testTarget(name: "MiniLMTests", dependencies: ["MiniLM"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
