import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI

#if canImport(Glibc)
import Glibc
#endif

private let postgres = processPodPostgres

/// The operator as users install it: `kubectl apply --server-side -f crds/ -f deploy/operator.yaml` against KubeSim
/// with pods that run, the Deployment's pods running the built `vectorblocks-operator` with nothing but what a
/// cluster gives a pod (the `kubernetes` Service's variables, the projected token, ca.crt and namespace), the
/// shipped RBAC enforced.
@Suite(
    .enabled(if: canRunPgvectorProcessPods, pgvectorProcessPodsSkipReason))
struct OperatorInClusterTests {
    @Test(.timeLimit(.minutes(15)))
    func theShippedDeploymentTakesItsLeaseAndRunsAClusterWithInClusterConfiguration() async throws {
        let postgres = try #require(postgres)
        let operatorBinary = try BuiltProduct.path("vectorblocks-operator")
        let imageMap = ImageMap([
            postgres,
            ImageMap.Entry(
                repository: "vectorblocks/vectorblocks-operator", binDirectory: (operatorBinary as NSString).deletingLastPathComponent,
                entrypoint: ["vectorblocks-operator"]),
        ])
        var configuration = KubeSimConfiguration()
        configuration.tls = true
        configuration.rbac = true
        configuration.tokens = ["admin-token": "admin"]
        var workloads = WorkloadSimulation()
        workloads.runtime = .processes(ProcessRuntimeSettings(imageMap: imageMap))
        configuration.workloads = workloads
        let server = try await KubeSimServer.start(configuration: configuration)
        let network = try #require(server.podNetwork)
        do {
            try await runTheOperatorInCluster(server)
        } catch {
            try await server.shutdown()
            throw error
        }
        try await server.shutdown()
        expectNoProcessPodLeftovers(bridge: network.bridge, directory: network.directory)
    }

    private func runTheOperatorInCluster(_ server: KubeSimServer) async throws {
        let directory = try TemporaryDirectory()
        let kubeconfig = directory.path + "/kubeconfig"
        try server.kubeconfigYAML(token: "admin-token").write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        let kubectl = { (arguments: [String]) async throws -> String in
            let result = try await run(ProcessInfo.processInfo.environment["VB_KUBECTL"] ?? "/usr/bin/kubectl", ["--kubeconfig", kubeconfig] + arguments)
            guard result.status == 0 else { throw TestSetupError("kubectl \(arguments.joined(separator: " ")) failed: \(result.output)") }
            return result.output
        }
        _ = try await kubectl(["apply", "--server-side", "-f", "crds/", "-f", "deploy/operator.yaml"])
        _ = try await kubectl(["apply", "--server-side", "-f", "deploy/addons/pgvector.yaml"])
        let admin = try KubeClient(
            configuration: KubeClientConfiguration(
                server: server.baseURL, tls: .init(certificateAuthorityPEM: Array((server.certificateAuthorityPEM ?? "").utf8)),
                credentials: .bearerToken("admin-token")))
        do {
            try await checkTheOperator(admin: admin, kubectl: kubectl)
        } catch {
            let pods = (try? await kubectl(["get", "pods", "-A", "-o", "wide"])) ?? ""
            let logs = (try? await kubectl(["logs", "-n", "vectorblocks-system", "-l", "app.kubernetes.io/name=vectorblocks-operator", "--tail", "30"])) ?? ""
            let events = (try? await kubectl(["get", "events", "-A"])) ?? ""
            Issue.record("pods:\n\(pods)\noperator logs:\n\(logs)\nevents:\n\(events)")
            try? await admin.shutdown()
            throw error
        }
        try await admin.shutdown()
    }

    private func checkTheOperator(admin: KubeClient, kubectl: ([String]) async throws -> String) async throws {
        let kubernetes = try await admin.get(CoreV1.Service.self, name: "kubernetes", namespace: "default")
        let clusterIP = try #require(kubernetes.spec?.clusterIP)
        // One of the Deployment's pods holds the Lease (its identity starts with its hostname, the pod's name).
        let holder = try await eventually("an operator pod to hold the lease", timeout: .seconds(300)) { () -> String? in
            let lease = try? await admin.get(CoordinationV1.Lease.self, name: "vectorblocks-operator", namespace: "vectorblocks-system")
            return lease?.spec?.holderIdentity
        }
        let operatorPods = try await admin.list(CoreV1.Pod.self, namespace: "vectorblocks-system").items
        #expect(operatorPods.count == 2)
        let leader = try #require(operatorPods.first { holder.hasPrefix($0.metadata?.name ?? "?") }, "the lease holder \(holder) is no operator pod")
        let leaderName = leader.metadata?.name ?? ""
        let container = try #require(leader.spec?.containers.first)
        #expect(container.volumeMounts?.contains { $0.mountPath == "/var/run/secrets/kubernetes.io/serviceaccount" && $0.readOnly == true } == true)
        // It configured itself from the pod: the API server is the `kubernetes` Service's ClusterIP, over HTTPS.
        let log = try await kubectl(["logs", "-n", "vectorblocks-system", leaderName])
        #expect(log.contains("\(clusterIP):443"), "the operator's log: \(log.prefix(2000))")

        var cluster = try exampleCluster("pgvector-cluster.yaml", name: "incluster")
        cluster.spec.componentSpecs[0].replicas = 1
        _ = try await admin.create(cluster)
        _ = try await waitForPhase(.running, "incluster", client: admin)
        // The operator reached the server in the pod over the pod network and labelled it from pg_is_in_recovery().
        _ = try await eventually("the pod labelled primary by the operator") { () -> Bool? in
            let pod = try await admin.get(CoreV1.Pod.self, name: "incluster-postgresql-0", namespace: "default")
            return pod.metadata?.labels?["apps.vectorblocks.io/role"] == "primary" ? true : nil
        }
        // The shipped role covered everything it did: its own metrics count no 403.
        // Fetched until it answers: on a loaded machine the pod's server may not answer one request in time.
        let requests = try await eventually("the operator's request metrics") { () -> [Substring]? in
            guard let podIP = try await admin.get(CoreV1.Pod.self, name: leaderName, namespace: "vectorblocks-system").status?.podIP else { return nil }
            let metrics = try await run(
                "/usr/bin/python3", ["-c", "import urllib.request; print(urllib.request.urlopen('http://\(podIP):8080/metrics', timeout=10).read().decode())"])
            guard metrics.status == 0 else { throw TestSetupError("GET /metrics failed: \(metrics.output.suffix(300))") }
            let lines = metrics.output.split(separator: "\n").filter { $0.hasPrefix("rest_client_requests_total") }
            return lines.isEmpty ? nil : lines
        }
        #expect(!requests.contains { $0.contains("code=\"403\"") }, "the operator was refused: \(requests)")
    }
}
