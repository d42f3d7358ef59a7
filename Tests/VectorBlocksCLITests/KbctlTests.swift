import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksCLI
import VectorBlocksPackaging

/// kbctl's commands against KubeSim, with the operator running where a command needs it to act.
@Suite("kbctl")
struct KbctlTests {
    @Test func tablesAlignAndFitTheTerminal() {
        let table = Table(headers: ["NAME", "STATUS", "CREATED-TIME"], rows: [["vectors", "Running", "Dec 01,2026 10:00 UTC"], ["a", "Creating", "-"]])
        #expect(
            table.render() == """
                NAME      STATUS     CREATED-TIME
                vectors   Running    Dec 01,2026 10:00 UTC
                a         Creating   -

                """)
        #expect(table.render(width: 20) == "NAME      STATUS\nvectors   Running\na         Creating\n")
    }

    @Test func createChecksTheDefinitionAndQuantitiesBeforeWriting() async throws {
        try await withKubeSim(workloads: true) { _, client in
            let session = Session(client: client, namespace: "default")
            // Before the CRDs: the advice is to install.
            await #expect { try await session.listClusters() } throws: { "\($0)".contains("kbctl install") }
            try await installVectorBlocksCRDs(client)
            try await session.enableAddon("qdrant")
            await #expect {
                try await session.createCluster(ClusterCreation(name: "x", namespace: "default", definition: "milvus"))
            } throws: { "\($0)".contains("\"milvus\" is not installed; installed: qdrant") }
            await #expect {
                try await session.createCluster(ClusterCreation(name: "x", namespace: "default", definition: "qdrant", memory: "8 gigs"))
            } throws: { "\($0)".contains("--memory \"8 gigs\" is not a quantity") && "\($0)".contains("4Gi") }
            let cluster = try await session.createCluster(
                ClusterCreation(
                    name: "vectors", namespace: "default", definition: "qdrant", replicas: 3, cpu: "2", memory: "8Gi",
                    storage: "50Gi", storageClass: "gp3", terminationPolicy: "WipeOut"))
            let component = try #require(cluster.spec.componentSpecs.first)
            #expect(component.replicas == 3)
            #expect(component.resources?.limits?["memory"] == Quantity("8Gi"))
            #expect(component.volumeClaimTemplates?.first?.spec.storageClassName == "gp3")
            #expect(cluster.spec.terminationPolicy == .wipeOut)
            await #expect {
                try await session.createCluster(ClusterCreation(name: "x", namespace: "default", definition: "qdrant", terminationPolicy: "Keep"))
            } throws: { "\($0)".contains("--termination-policy \"Keep\" is not one of DoNotTerminate, Halt, Delete, WipeOut") }
            await #expect { try await session.describeCluster("nope") } throws: { "\($0)".contains("cluster \"nope\" not found in namespace \"default\"") }
        }
    }

    @Test func everyCommandAgainstTheOperator() async throws {
        try await withKubeSim(workloads: true) { _, client in
            try await installOperatorPrerequisites(client)
            let running = RunningOperator(client: client)
            let session = Session(client: client, namespace: "default")
            _ = try await session.createCluster(ClusterCreation(name: "vectors", namespace: "default", definition: "qdrant", replicas: 2))
            _ = try await waitForPhase(.running, "vectors", client: client)

            // Tables against golden files, with the creation times (the one thing that varies) fixed.
            try expectGolden(try await session.listClusters().withFixedTimes, "Tests/VectorBlocksCLITests/Golden/cluster-list.txt")
            try expectGolden(
                try await Session(client: client, namespace: "default", format: .wide).listClusters().withFixedTimes,
                "Tests/VectorBlocksCLITests/Golden/cluster-list-wide.txt")
            let yaml = try await Session(client: client, namespace: "default", format: .yaml).listClusters()
            #expect(yaml.contains("kind: Cluster") && yaml.contains("name: vectors"))
            try expectGolden(try await session.describeCluster("vectors").withFixedTimes, "Tests/VectorBlocksCLITests/Golden/cluster-describe.txt")

            // The operator's Secret: the endpoint printed, the key left in it.
            let connection = try await session.connection(to: "vectors")
            let secret = try await client.get(CoreV1.Secret.self, name: "vectors-conn-credential", namespace: "default")
            let apiKey = String(decoding: Data(base64Encoded: secret.data?["apiKey"] ?? "") ?? Data(), as: UTF8.self)
            #expect(!apiKey.isEmpty && !connection.printed.contains(apiKey))
            #expect(connection.printed.contains("Qdrant REST endpoint: http://vectors-qdrant.default.svc"), "\(connection.printed)")

            var lines: [String] = []
            let scale = try await session.request(.horizontalScaling, cluster: "vectors") {
                $0.horizontalScaling = [.init(componentName: "qdrant", replicas: 3)]
            }
            let done = try await session.waitFor(scale) { lines.append("\($0.status?.phase?.rawValue ?? "Pending") \($0.status?.progress ?? "-/-")") }
            #expect(done.status?.phase == .succeed)
            #expect(lines.last == "Succeed 3/3", "\(lines)")

            let services = try await session.exposeServices(cluster: "vectors", component: "qdrant", type: "vpc", enable: true, sourceRanges: ["10.0.0.0/8"])
            #expect(services.first?.annotations?["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal")
            let expose = try await session.request(.expose, cluster: "vectors") { $0.expose = [.init(componentName: "qdrant", services: services)] }
            _ = try await session.waitFor(expose) { _ in }
            let exposed = try await session.describeCluster("vectors")
            #expect(exposed.contains(".elb."), "\(exposed)")

            // A request the operator refuses fails the wait with its reason.
            await #expect {
                _ = try await session.request(.volumeExpansion, cluster: "vectors") {
                    $0.volumeExpansion = [.init(componentName: "qdrant", volumeClaimTemplates: [.init(name: "data", storage: "1Gi")])]
                }
            } throws: { "\($0)".contains("storage may not shrink") }

            let ops = try await session.listOps(cluster: "vectors")
            #expect(ops.contains("HorizontalScaling") && ops.contains("Expose") && ops.contains("3/3"), "\(ops)")
            let events = try await session.listEvents(of: "vectors")
            #expect(events.contains("Normal"), "\(events)")
            #expect(Self.row("qdrant", in: try await session.listAddons()) == ["qdrant", "1.12.5", "Enabled", "Available", "qdrant-1.12.5"])
            await #expect { try await session.disableAddon("qdrant") } throws: { "\($0)".contains("used by default/vectors") }
            try await session.deleteCluster("vectors")
            _ = try await eventually("the cluster to go") { try await client.list(Cluster.self, namespace: "default").items.isEmpty ? true : nil }
            try await session.disableAddon("qdrant")
            #expect(Self.row("qdrant", in: try await session.listAddons()) == ["qdrant", "1.12.5", "Disabled", "-", "-"])
            await running.stop()
        }
    }

    @Test("list-events selects by involvedObject: a Cluster's own, its pods', none of vectors-prod's")
    func eventsAreSelectedByInvolvedObject() async throws {
        try await withKubeSim(workloads: false) { _, client in
            try await installVectorBlocksCRDs(client)
            let session = Session(client: client, namespace: "default")
            try await session.enableAddon("qdrant")
            var clusters: [String: Cluster] = [:]
            for name in ["vectors", "vectors-prod"] {
                clusters[name] = try await session.createCluster(
                    ClusterCreation(name: name, namespace: "default", definition: "qdrant", terminationPolicy: "Delete"))
            }
            let pod = try await client.create(
                CoreV1.Pod(
                    metadata: .init(labels: ["app.kubernetes.io/instance": "vectors-prod"], name: "vectors-prod-qdrant-0", namespace: "default"),
                    spec: .init(containers: [.init(image: "qdrant/qdrant:v1.12.5", name: "qdrant")])))
            func event(_ name: String, about object: CoreV1.ObjectReference, reason: String) async throws {
                _ = try await client.create(
                    CoreV1.Event(
                        involvedObject: object, lastTimestamp: .now(), message: "about \(object.name ?? "")",
                        metadata: .init(name: name, namespace: "default"), reason: reason, type: "Normal"))
            }
            for (name, cluster) in clusters {
                let reference = CoreV1.ObjectReference(kind: "Cluster", name: name, namespace: "default", uid: cluster.metadata?.uid)
                try await event("\(name).1", about: reference, reason: "Reconciled-\(name)")
            }
            try await event(
                "pod.1", about: .init(kind: "Pod", name: pod.metadata?.name, namespace: "default", uid: pod.metadata?.uid), reason: "Started-prod-pod")
            let forVectors = try await session.listEvents(of: "vectors")
            #expect(forVectors.contains("Reconciled-vectors") && !forVectors.contains("Reconciled-vectors-prod"), "\(forVectors)")
            #expect(!forVectors.contains("Started-prod-pod"), "\(forVectors)")
            let forProd = try await session.listEvents(of: "vectors-prod")
            #expect(forProd.contains("Reconciled-vectors-prod") && forProd.contains("Started-prod-pod"), "\(forProd)")
        }
    }

    @Test func installAndUninstallTheOperator() async throws {
        try await withKubeSim(workloads: true) { _, client in
            let session = Session(client: client, namespace: "default")
            var settings = OperatorSettings()
            settings.image = AddonImage(valuesKey: "image", registry: "registry.example.com", repository: "team/operator", tag: "1.2.3")
            let applied = try await session.install(crds: try ShippedCRDs.documents(), settings: settings, namespace: "platform")
            #expect(applied.contains("CustomResourceDefinition/clusters.apps.vectorblocks.io"))
            #expect(applied.contains("ClusterRole/vectorblocks-operator"))
            let deployment = try await client.get(AppsV1.Deployment.self, name: "vectorblocks-operator", namespace: "platform")
            #expect(deployment.spec?.template.spec?.containers.first?.image == "registry.example.com/team/operator:1.2.3")
            try await session.waitForOperator(namespace: "platform")
            // Installing again changes nothing and fails nothing.
            _ = try await session.install(crds: try ShippedCRDs.documents(), settings: settings, namespace: "platform")

            _ = try await client.create(try exampleCluster("qdrant-cluster.yaml"))
            let names = try ShippedCRDs.documents().compactMap { $0["metadata"]?["name"]?.stringValue }
            await #expect {
                _ = try await session.uninstall(settings: settings, namespace: "platform", removeCRDs: true, crdNames: names)
            } throws: { "\($0)".contains("Cluster(s) still exist (vectors)") }
            try await client.delete(Cluster.self, name: "vectors", namespace: "default")
            let removed = try await session.uninstall(settings: settings, namespace: "platform", removeCRDs: true, crdNames: names)
            #expect(removed.contains("Deployment/vectorblocks-operator"))
            #expect(removed.contains("CustomResourceDefinition/clusters.apps.vectorblocks.io"))
            await #expect(throws: KubeAPIError.self) {
                _ = try await client.get(AppsV1.Deployment.self, name: "vectorblocks-operator", namespace: "platform")
            }
        }
    }

    @Test func createStatesThePolicyItSetsAndDefaultsToOneThatKeepsTheData() async throws {
        let kbctl = try BuiltProduct.path("kbctl")
        try await withKubeSim { server, client in
            try await installVectorBlocksCRDs(client)
            try await Session(client: client, namespace: "default").enableAddon("qdrant")
            let directory = try TemporaryDirectory()
            let kubeconfig = directory.path + "/kubeconfig"
            try server.kubeconfigYAML(token: nil).write(toFile: kubeconfig, atomically: true, encoding: .utf8)

            let unstated = try await run(kbctl, ["cluster", "create", "vectors", "--cluster-definition", "qdrant", "--kubeconfig", kubeconfig])
            #expect(unstated.status == 0, "\(unstated.output)")
            #expect(
                unstated.output == "Cluster vectors created with terminationPolicy Halt: deleting it removes its pods and "
                    + "Services and keeps its volumes, Secrets and ConfigMaps\n")
            #expect(try await client.get(Cluster.self, name: "vectors", namespace: "default").spec.terminationPolicy == .halt)

            let stated = try await run(
                kbctl,
                [
                    "cluster", "create", "scratch", "--cluster-definition", "qdrant", "--termination-policy", "Delete", "--kubeconfig", kubeconfig,
                ])
            #expect(stated.output == "Cluster scratch created with terminationPolicy Delete: deleting it removes everything it owns, volumes included\n")
            #expect(try await client.get(Cluster.self, name: "scratch", namespace: "default").spec.terminationPolicy == .delete)
        }
    }

    /// The cells of the table row that starts with `name`.
    static func row(_ name: String, in table: String) -> [String] {
        table.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            .first { $0.first == name } ?? []
    }

    @Test func theExecutableExitsNonZeroWithTheReason() async throws {
        let kbctl = try BuiltProduct.path("kbctl")
        let directory = try TemporaryDirectory()
        let unreachable = """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "http://127.0.0.1:9"}}]
            contexts: [{name: c, context: {cluster: c, user: u}}]
            users: [{name: u, user: {}}]
            current-context: c
            """
        let path = directory.path + "/kubeconfig"
        try unreachable.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await run(kbctl, ["cluster", "list", "--kubeconfig", path])
        #expect(result.status == 1)
        #expect(result.output.contains("error: no cluster reachable"), "\(result.output)")
        let help = try await run(kbctl, ["cluster", "hscale", "--help"])
        #expect(help.status == 0 && help.output.contains("kbctl cluster hscale vectors --components qdrant --replicas 5"))
        let badFormat = try await run(kbctl, ["cluster", "list", "-o", "xml", "--kubeconfig", path])
        #expect(badFormat.status != 0 && badFormat.output.contains("-o/--output \"xml\" is not one of table, wide, yaml, json, name"), "\(badFormat.output)")
        // Global flags before the subcommand, as kubectl takes them.
        let globalsFirst = try await run(kbctl, ["--kubeconfig", path, "-n", "team-a", "cluster", "list"])
        #expect(globalsFirst.status == 1 && globalsFirst.output.contains("error: no cluster reachable"), "\(globalsFirst.output)")
        let formatFirst = try await run(kbctl, ["-o=xml", "--kubeconfig=\(path)", "cluster", "list"])
        #expect(formatFirst.output.contains("-o/--output \"xml\" is not one of table, wide, yaml, json, name"), "\(formatFirst.output)")
    }

    @Test("global flags written before the subcommand move behind it, values and `=` forms alike, never past `--`")
    func globalFlagsAreHoisted() {
        #expect(GlobalFlags.hoisted(["--kubeconfig", "k", "cluster", "list"]) == ["cluster", "list", "--kubeconfig", "k"])
        #expect(GlobalFlags.hoisted(["-n", "a", "-o=yaml", "cluster", "describe", "v"]) == ["cluster", "describe", "v", "-n", "a", "-o=yaml"])
        #expect(GlobalFlags.hoisted(["cluster", "list", "-n", "a"]) == ["cluster", "list", "-n", "a"])
        #expect(GlobalFlags.hoisted(["--context", "c", "x", "--", "-n"]) == ["x", "--context", "c", "--", "-n"])
    }
}

extension String {
    /// kbctl's times ("Dec 01,2026 22:31 UTC") as one fixed time of the same width, so tables keep their layout.
    var withFixedTimes: String {
        replacingOccurrences(of: #"[A-Z][a-z]{2} \d{2},\d{4} \d{2}:\d{2} UTC"#, with: "Jan 01,2026 00:00 UTC", options: .regularExpression)
    }
}
