import Foundation
import KubeKit
import KubeSim
import OperatorKit
import TestSupport
import Testing
import VectorBlocksAPI

/// Two `vectorblocks-operator` processes, as the Deployment runs them, and the leader killed with SIGKILL in the middle
/// of its work, round after round, each time replaced by a new process. Whatever was asked must be done exactly once.
@Suite("Operator processes killed mid-work")
struct OperatorKillTests {
    static let rounds = 20
    static let seed: UInt64 = 20_261_203

    /// The process whose identity holds the lease; the identity is in its first log line.
    static func leader(of operators: [BackgroundProgram], client: KubeClient) async throws -> BackgroundProgram? {
        guard let holder = try? await client.get(CoordinationV1.Lease.self, name: "vectorblocks-operator", namespace: "default").spec?.holderIdentity
        else { return nil }
        return operators.first { $0.output.contains(holder) }
    }

    @Test(.timeLimit(.minutes(20)))
    func theStandbyFinishesEverythingWithNoDuplicateOrphanOrNewCredential() async throws {
        try await withKubeSim(workloads: true) { server, client in
            try await installOperatorPrerequisites(client)
            let directory = try TemporaryDirectory()
            let kubeconfig = directory.path + "/kubeconfig"
            try server.kubeconfigYAML(token: nil).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            let start = {
                try BackgroundProgram.start(
                    "vectorblocks-operator",
                    [
                        "--kubeconfig", kubeconfig, "--leader-election-namespace", "default",
                        "--leader-election-lease-duration", "3", "--leader-election-renew-deadline", "2",
                        "--leader-election-retry-period", "0.5", "--metrics-bind-address", "0",
                        "--health-probe-bind-address", "0", "--log-level", "info",
                    ])
            }
            var operators = [try start(), try start()]
            // As the Deployment's kubelet does, a process that exits by itself is replaced; the only reason it may
            // have is a lease it could not renew (a loaded machine slows the API server in this process).
            let replaceExited = {
                for exited in operators where !exited.isRunning {
                    #expect(
                        exited.output.contains("lost leadership") || exited.output.contains("lost the leader election lease"),
                        "an operator exited by itself:\n\(exited.output.suffix(2_000))")
                }
                operators.removeAll { !$0.isRunning }
                while operators.count < 2 { operators.append(try start()) }
            }
            var random = SeededGenerator(seed: Self.seed)
            var replicas: [String: Int32] = [:]
            var deleted: [String] = []
            var passwords: [String: String] = [:]
            var made = 0

            for round in 0..<Self.rounds {
                try replaceExited()
                let leader = try await eventually("a leader in round \(round)") { try await Self.leader(of: operators, client: client) }
                let names = replicas.keys.sorted()
                switch (names.count < 2 ? 0 : Int.random(in: 0..<3, using: &random), names.randomElement(using: &random)) {
                case (1, let name?):
                    // Out, or to zero and back: a scale-in would wait on Qdrant, which no pod here runs.
                    let next: Int32 = replicas[name] == 0 ? 1 : (replicas[name] ?? 1) >= 3 ? 0 : (replicas[name] ?? 1) + 1
                    _ = try await client.patch(
                        Cluster.self, name: name, namespace: "default",
                        patch: .json([
                            .replace("/spec/componentSpecs/0/replicas", .int(Int64(next)))
                        ]))
                    replicas[name] = next
                case (2, let name?):
                    try await client.delete(Cluster.self, name: name, namespace: "default")
                    replicas[name] = nil
                    deleted.append(name)
                default:
                    let name = "killed-\(made)"
                    made += 1
                    var cluster = try exampleCluster("qdrant-cluster.yaml", name: name)
                    cluster.spec.componentSpecs[0].replicas = 1
                    cluster.spec.terminationPolicy = .delete
                    _ = try await client.create(cluster)
                    replicas[name] = 1
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...1_500, using: &random)))
                for (name, password) in try await Self.passwords(client) {
                    #expect(passwords[name, default: password] == password, "round \(round): \(name)'s password was made anew")
                    passwords[name] = password
                }
                await leader.kill()
                operators.removeAll { $0 === leader }
                operators.append(try start())
            }

            for (name, count) in replicas {
                _ = try await eventually("\(name) to run \(count) pods", timeout: .seconds(300)) { () -> Bool? in
                    try replaceExited()
                    let cluster = try await client.get(Cluster.self, name: name, namespace: "default")
                    let phase: ClusterPhase = count == 0 ? .stopped : .running
                    guard cluster.status?.phase == phase, cluster.status?.observedGeneration == cluster.metadata?.generation else { return nil }
                    return try await objectNames(CoreV1.Pod.descriptor, cluster: name, client: client).count == Int(count) ? true : nil
                }
                #expect(try await objectNames(AppsV1.StatefulSet.descriptor, cluster: name, client: client) == ["\(name)-qdrant"])
                #expect(try await objectNames(CoreV1.Secret.descriptor, cluster: name, client: client) == ["\(name)-conn-credential"])
            }
            for name in deleted {
                try replaceExited()
                try await waitForDeletion(name, client: client)
                for kind in ClusterControllerTests.componentKinds + [CoreV1.Pod.descriptor, CoreV1.PersistentVolumeClaim.descriptor] {
                    try await eventuallyGone(kind, name, client: client)
                }
            }
            for (name, password) in try await Self.passwords(client) {
                #expect(passwords[name, default: password] == password, "\(name)'s password was made anew")
            }
            for program in operators { await program.kill() }
        }
    }

    /// Each cluster's password, from its conn-credential Secret.
    static func passwords(_ client: KubeClient) async throws -> [String: String] {
        let secrets = try await client.list(CoreV1.Secret.self, namespace: "default").items
        var passwords: [String: String] = [:]
        for secret in secrets {
            guard let name = secret.metadata?.name, name.hasSuffix("-conn-credential"), let password = secret.data?["password"] else { continue }
            passwords[String(name.dropLast("-conn-credential".count))] = password
        }
        return passwords
    }
}

/// Waits until no object of `kind` labelled as `cluster`'s is left (pods and volumes go after the Cluster, through
/// garbage collection).
private func eventuallyGone(_ kind: ResourceDescriptor, _ cluster: String, client: KubeClient) async throws {
    _ = try await eventually("\(kind.kind)s of \(cluster) to be gone") {
        try await objectNames(kind, cluster: cluster, client: client).isEmpty ? true : nil
    }
}
