import ArgumentParser
import Foundation
import KubeKit
import VectorBlocksAPI
import VectorBlocksCLI

struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Manage clusters.",
        subcommands: [
            Create.self, List.self, Describe.self, Delete.self, HScale.self, VScale.self, VolumeExpand.self, Restart.self,
            Stop.self, Start.self, Expose.self, Upgrade.self, Promote.self, Connect.self, ListOps.self, ListEvents.self, BackupCluster.self,
            ListBackups.self, DeleteBackup.self, Restore.self,
        ])

    /// `--wait` for day-2 commands: follow the request and exit non-zero if it fails.
    struct Wait: ParsableArguments {
        @Flag(help: "Wait until the operation succeeds or fails, showing its progress.") var wait = false

        /// Prints the OpsRequest in the session's format; progress goes beside a table, and to standard error beside
        /// `-o yaml|json|name`.
        func follow(_ ops: OpsRequest, in session: Session, as command: KbctlCommand) async throws {
            Terminal.print(try await session.printRequest(ops, for: command))
            guard wait else { return }
            let report = [OutputFormat.table, .wide].contains(session.format) ? Terminal.progress : Terminal.progressToStandardError
            _ = try await session.waitFor(ops, report: report)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a cluster.",
            discussion: """
                Examples:
                  kbctl cluster create vectors --cluster-definition qdrant --replicas 3
                  kbctl cluster create scratch --cluster-definition qdrant --termination-policy Delete
                  kbctl cluster create embeddings --cluster-definition pgvector --replicas 2 --cpu 2 --memory 8Gi --storage 100Gi --storage-class gp3 --wait
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The cluster's name.") var name: String
        @Option(help: "The engine: an installed ClusterDefinition (qdrant, pgvector).") var clusterDefinition: String
        @Option(help: "A ClusterVersion; default: the definition's default version.") var clusterVersion: String?
        @Option(help: "Replicas of each component.") var replicas: Int32?
        @Option(help: "CPU per replica, request and limit (e.g. 1, 500m).") var cpu: String?
        @Option(help: "Memory per replica, request and limit (e.g. 4Gi).") var memory: String?
        @Option(help: "Data volume size per replica (default 20Gi).") var storage: String?
        @Option(help: "StorageClass of the data volumes (e.g. gp3).") var storageClass: String?
        @Option(
            help: """
                What deleting the cluster does: DoNotTerminate (refused), Halt (the default: keeps the volumes, Secrets \
                and ConfigMaps), Delete (removes everything, volumes included) or WipeOut (as Delete, and deletes its backups too).
                """) var terminationPolicy: String?
        @Flag(help: "Wait until the cluster is Running.") var wait = false

        func run() async throws {
            try await global.run(.clusterCreate) { session in
                let cluster = try await session.createCluster(
                    ClusterCreation(
                        name: name, namespace: session.namespace, definition: clusterDefinition, version: clusterVersion,
                        replicas: replicas, cpu: cpu, memory: memory, storage: storage, storageClass: storageClass,
                        terminationPolicy: terminationPolicy))
                Terminal.print(try await session.printCreated(cluster))
                guard wait else { return }
                let clock = ContinuousClock()
                let deadline = clock.now + .seconds(1_800)
                var last: ClusterPhase?
                while clock.now < deadline {
                    let current = try await session.getCluster(name)
                    if current.status?.phase != last, let phase = current.status?.phase {
                        Terminal.progressLine("Cluster \(name): \(phase.rawValue)\n", format: session.format)
                        last = phase
                    }
                    if current.status?.phase == .running { return }
                    if current.status?.phase == .failed {
                        throw CLIError("cluster \(name) failed: \(current.status?.message ?? "see kbctl cluster describe \(name)")")
                    }
                    try await Task.sleep(for: .milliseconds(500))
                }
                throw CLIError("cluster \(name) is not Running after 30 minutes; see kbctl cluster describe \(name)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List clusters.", discussion: "Examples:\n  kbctl cluster list\n  kbctl cluster list -A -o wide")
        @OptionGroup var global: GlobalOptions
        @Flag(name: [.customShort("A"), .long], help: "List clusters of every namespace.") var allNamespaces = false

        func run() async throws {
            try await global.run(.clusterList) { Terminal.print(try await $0.listClusters(allNamespaces: allNamespaces)) }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a cluster's endpoints, topology, resources, images and events.", discussion: "Example:\n  kbctl cluster describe vectors")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws {
            try await global.run(.clusterDescribe) { Terminal.print(try await $0.describeCluster(name)) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a cluster (its terminationPolicy says what is kept).", discussion: "Example:\n  kbctl cluster delete vectors")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws {
            try await global.run(.clusterDelete) { session in
                Terminal.print(try await session.deleteCluster(name))
            }
        }
    }

    struct HScale: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hscale", abstract: "Change the number of replicas.",
            discussion: "Example:\n  kbctl cluster hscale vectors --components qdrant --replicas 5 --wait")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(parsing: .upToNextOption, help: "Components to scale (default: all).") var components: [String] = []
        @Option(help: "Replicas wanted.") var replicas: Int32
        @OptionGroup var wait: Wait

        func run() async throws {
            try await global.run(.clusterHScale) { session in
                let targets = try await session.components(components, of: name)
                let ops = try await session.request(.horizontalScaling, cluster: name) { spec in
                    spec.horizontalScaling = targets.map { .init(componentName: $0, replicas: replicas) }
                }
                try await wait.follow(ops, in: session, as: .clusterHScale)
            }
        }
    }

    struct VScale: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "vscale", abstract: "Change CPU and memory.",
            discussion: "Example:\n  kbctl cluster vscale vectors --components qdrant --cpu 8 --memory 32Gi --wait")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(parsing: .upToNextOption, help: "Components to scale (default: all).") var components: [String] = []
        @Option(help: "CPU request and limit (e.g. 2, 500m).") var cpu: String?
        @Option(help: "Memory request and limit (e.g. 8Gi).") var memory: String?
        @OptionGroup var wait: Wait

        func run() async throws {
            try await global.run(.clusterVScale) { session in
                var resources: [String: Quantity] = [:]
                for (flag, value) in [("cpu", cpu), ("memory", memory)] {
                    resources[flag] = try ClusterCreation.quantity(value, flag: flag)
                }
                guard !resources.isEmpty else { throw CLIError("give --cpu and/or --memory") }
                let targets = try await session.components(components, of: name)
                let ops = try await session.request(.verticalScaling, cluster: name) { spec in
                    spec.verticalScaling = targets.map { .init(componentName: $0, requests: resources, limits: resources) }
                }
                try await wait.follow(ops, in: session, as: .clusterVScale)
            }
        }
    }

    struct VolumeExpand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "volume-expand", abstract: "Grow data volumes.",
            discussion: "Example:\n  kbctl cluster volume-expand vectors --components qdrant --volume-claim-templates data --storage 40Gi --wait")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(parsing: .upToNextOption, help: "Components (default: all).") var components: [String] = []
        @Option(parsing: .upToNextOption, help: "Volume claim templates to grow.") var volumeClaimTemplates: [String] = ["data"]
        @Option(help: "The new size (e.g. 40Gi).") var storage: String
        @OptionGroup var wait: Wait

        func run() async throws {
            try await global.run(.clusterVolumeExpand) { session in
                guard let size = try ClusterCreation.quantity(storage, flag: "storage") else { return }
                let targets = try await session.components(components, of: name)
                let ops = try await session.request(.volumeExpansion, cluster: name) { spec in
                    spec.volumeExpansion = targets.map { component in
                        .init(componentName: component, volumeClaimTemplates: volumeClaimTemplates.map { .init(name: $0, storage: size) })
                    }
                }
                try await wait.follow(ops, in: session, as: .clusterVolumeExpand)
            }
        }
    }

    struct Restart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restart pods, one at a time.", discussion: "Example:\n  kbctl cluster restart vectors --wait")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(parsing: .upToNextOption, help: "Components (default: all).") var components: [String] = []
        @OptionGroup var wait: Wait

        func run() async throws {
            try await global.run(.clusterRestart) { session in
                let targets = try await session.components(components, of: name)
                let ops = try await session.request(.restart, cluster: name) { $0.restart = targets.map { .init(componentName: $0) } }
                try await wait.follow(ops, in: session, as: .clusterRestart)
            }
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Switch a pgvector component over to a new primary: the primary is demoted cleanly and rejoins as a standby.",
            discussion: """
                Examples:
                  kbctl cluster promote embeddings --instance embeddings-postgresql-1 --wait
                  kbctl cluster promote embeddings --instance '*'
                """)
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(help: "The pod to promote, or * for the standby that received the most WAL.") var instance: String
        @Option(help: "The component (default: the cluster's only component).") var component: String?
        @OptionGroup var wait: Wait

        func run() async throws {
            try await global.run(.clusterPromote) { session in
                let target = try await session.switchoverComponent(component, of: name)
                let ops = try await session.request(.switchover, cluster: name) {
                    $0.switchover = [.init(componentName: target, instanceName: instance)]
                }
                try await wait.follow(ops, in: session, as: .clusterPromote)
            }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop a cluster: no pods, volumes kept.", discussion: "Example:\n  kbctl cluster stop vectors --wait")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @OptionGroup var wait: Wait

        func run() async throws {
            try await global.run(.clusterStop) { session in
                try await wait.follow(try await session.request(.stop, cluster: name), in: session, as: .clusterStop)
            }
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a stopped cluster with the replicas it had.", discussion: "Example:\n  kbctl cluster start vectors --wait")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @OptionGroup var wait: Wait

        func run() async throws {
            try await global.run(.clusterStart) { session in
                try await wait.follow(try await session.request(.start, cluster: name), in: session, as: .clusterStart)
            }
        }
    }

    struct Expose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open or close a VPC or internet load balancer (AWS NLB).",
            discussion:
                "Examples:\n  kbctl cluster expose vectors --type vpc --enable true --wait\n  kbctl cluster expose vectors --type internet --enable true --source-ranges 203.0.113.0/24"
        )
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(help: "vpc (internal NLB) or internet (internet-facing NLB).") var type: String
        @Option(help: "true to open, false to close.") var enable: Bool
        @Option(parsing: .upToNextOption, help: "Components (default: all).") var components: [String] = []
        @Option(parsing: .upToNextOption, help: "CIDRs allowed to connect.") var sourceRanges: [String] = []
        @OptionGroup var wait: Wait

        func run() async throws {
            try await global.run(.clusterExpose) { session in
                let targets = try await session.components(components, of: name)
                var exposes: [OpsRequestSpec.Expose] = []
                for component in targets {
                    exposes.append(
                        .init(
                            componentName: component,
                            services: try await session.exposeServices(
                                cluster: name, component: component, type: type, enable: enable, sourceRanges: sourceRanges)))
                }
                let ops = try await session.request(.expose, cluster: name) { $0.expose = exposes }
                try await wait.follow(ops, in: session, as: .clusterExpose)
            }
        }
    }

    struct Upgrade: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a cluster to another ClusterVersion.",
            discussion: "Example:\n  kbctl cluster upgrade vectors --cluster-version qdrant-1.13.0 --wait")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(help: "The ClusterVersion to run.") var clusterVersion: String
        @OptionGroup var wait: Wait

        func run() async throws {
            try await global.run(.clusterUpgrade) { session in
                let ops = try await session.request(.upgrade, cluster: name) { $0.upgrade = .init(clusterVersionRef: clusterVersion) }
                try await wait.follow(ops, in: session, as: .clusterUpgrade)
            }
        }
    }

    struct Connect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect with psql (pgvector), or print Qdrant's REST URL and a curl example.",
            discussion: """
                For pgvector, runs psql from PATH with the password from the cluster's conn-credential Secret in its
                environment (PGPASSWORD), never on its command line; arguments after -- go to psql. For Qdrant, prints
                the REST URL and a curl that reads the API key from a variable. --dry-run (or no psql installed)
                prints the command, reading the credential from the Secret with kubectl rather than showing it.
                Examples:
                  kbctl cluster connect embeddings
                  kbctl cluster connect embeddings --host 127.0.0.1 -- -c 'select 1'
                  kbctl cluster connect vectors
                  kbctl cluster connect embeddings --dry-run
                """)
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Flag(help: "Print the command instead of running it; the credential stays in the Secret.") var dryRun = false
        @Option(help: "The host to connect to instead of the Secret's (e.g. 127.0.0.1 after kubectl port-forward).") var host: String?
        @Option(help: "The port to connect to instead of the Secret's.") var port: String?
        @Option(help: "The database (pgvector).") var database = "postgres"
        @Argument(parsing: .postTerminator, help: "Arguments for psql, after --.") var clientArguments: [String] = []

        func run() async throws {
            var connection: ClusterConnection?
            try await global.run(.clusterConnect) { session in
                connection = try await session.connection(
                    to: name, host: host, port: port, database: database, clientArguments: clientArguments)
            }
            guard let connection else { return }
            guard let program = connection.program, !dryRun else { return Terminal.print(connection.printed) }
            let environment = ProcessInfo.processInfo.environment
            guard let path = ClusterConnection.locate(program, path: environment["PATH"]) else {
                Terminal.print(connection.printed)
                Terminal.fail("\(program) is not installed (not on PATH): install the PostgreSQL client, or run the command above where it is")
            }
            // The client replaces kbctl (the terminal, signals and exit status are its own); the Kubernetes client
            // was shut down when the session ended.
            Terminal.exec(path, arguments: [program] + connection.arguments, environment: environment.merging(connection.environment) { _, new in new })
        }
    }

    struct ListOps: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-ops", abstract: "List OpsRequests.", discussion: "Example:\n  kbctl cluster list-ops vectors")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String?

        func run() async throws {
            try await global.run(.clusterListOps) { Terminal.print(try await $0.listOps(cluster: name)) }
        }
    }

    struct ListEvents: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-events", abstract: "List a cluster's events.", discussion: "Example:\n  kbctl cluster list-events vectors")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws {
            try await global.run(.clusterListEvents) { Terminal.print(try await $0.listEvents(of: name)) }
        }
    }
}

struct AddonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "addon", abstract: "List, enable and disable the engines (qdrant, pgvector).",
        subcommands: [List.self, Enable.self, Disable.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the addons and whether they are enabled.", discussion: "Example:\n  kbctl addon list")
        @OptionGroup var global: GlobalOptions
        func run() async throws { try await global.run(.addonList) { Terminal.print(try await $0.listAddons()) } }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install an addon's definition and version.", discussion: "Example:\n  kbctl addon enable qdrant")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        func run() async throws {
            try await global.run(.addonEnable) { session in
                Terminal.print(try await session.enableAddon(name))
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an addon no cluster uses.", discussion: "Example:\n  kbctl addon disable pgvector")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        func run() async throws {
            try await global.run(.addonDisable) { session in
                Terminal.print(try await session.disableAddon(name))
            }
        }
    }
}
