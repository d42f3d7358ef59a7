import Foundation
import KubeKit
import KubeSim
import MetricsTestKit
import OperatorKit
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// The Cluster controller end to end: the operator in this process, KubeSim with its simulated kubelet.
@Suite("Cluster controller against KubeSim")
struct ClusterControllerTests {
    static let componentKinds: [ResourceDescriptor] = [
        CoreV1.Secret.descriptor, CoreV1.ConfigMap.descriptor, CoreV1.Service.descriptor, AppsV1.StatefulSet.descriptor,
        PolicyV1.PodDisruptionBudget.descriptor,
    ]

    @Test func qdrantAndPgvectorClustersReachRunningWithEveryObject() async throws {
        try await withKubeSim(workloads: true) { _, client in
            try await installOperatorPrerequisites(client)
            let running = RunningOperator(client: client)
            _ = try await client.create(try exampleCluster("qdrant-cluster.yaml"))
            _ = try await client.create(try exampleCluster("pgvector-cluster.yaml", name: "pgvectors"))

            let qdrant = try await waitForPhase(.running, "vectors", client: client)
            // ScaleIn appears only once a component has shrunk.
            for condition in ClusterStatus.ConditionType.allCases where condition != .scaleIn {
                #expect(Conditions.isTrue(qdrant.status?.conditions, type: condition.rawValue), "\(condition) in \(qdrant.status?.conditions ?? [])")
            }
            #expect(qdrant.status?.components?["qdrant"]?.podsReady == true)
            #expect(qdrant.metadata?.finalizers?.contains(ClusterNames.finalizer) == true)
            #expect(
                try await objectNames(CoreV1.Service.descriptor, cluster: "vectors", client: client)
                    == ["vectors-qdrant", "vectors-qdrant-headless"])
            #expect(try await objectNames(AppsV1.StatefulSet.descriptor, cluster: "vectors", client: client) == ["vectors-qdrant"])
            #expect(
                try await objectNames(CoreV1.Pod.descriptor, cluster: "vectors", client: client)
                    == ["vectors-qdrant-0", "vectors-qdrant-1", "vectors-qdrant-2"])
            #expect(
                try await objectNames(CoreV1.PersistentVolumeClaim.descriptor, cluster: "vectors", client: client)
                    == ["data-vectors-qdrant-0", "data-vectors-qdrant-1", "data-vectors-qdrant-2"])

            let pgvector = try await waitForPhase(.running, "pgvectors", client: client)
            #expect(pgvector.status?.components?["postgresql"]?.podsReady == true)
            #expect(
                try await objectNames(CoreV1.Service.descriptor, cluster: "pgvectors", client: client)
                    == ["pgvectors-postgresql", "pgvectors-postgresql-headless", "pgvectors-postgresql-ro"])

            // What the server stores passes the upstream schemas, built-in kinds strictly.
            let directory = try TemporaryDirectory()
            var documents: [JSONValue] = []
            for kind in Self.componentKinds {
                for cluster in ["vectors", "pgvectors"] {
                    let list = try await client.list(kind, namespace: "default", options: ListOptions(labelSelector: "app.kubernetes.io/instance=\(cluster)"))
                    documents += list.items.map { Self.withoutServerFields($0, kind: kind) }
                }
            }
            let file = URL(fileURLWithPath: directory.path).appendingPathComponent("stored.yaml")
            try ManifestYAML.render(documents, header: "stored").write(to: file, atomically: true, encoding: .utf8)
            let result = try await run(try TestVenv.program("kubernetes-validate"), ["--strict", file.path])
            #expect(result.status == 0, "\(result.output)")
            await running.stop()
        }
    }

    /// kubernetes-validate checks a manifest as a user would write it: the server's bookkeeping goes.
    static func withoutServerFields(_ object: JSONValue, kind: ResourceDescriptor) -> JSONValue {
        guard case .object(var fields) = object, case .object(var metadata)? = fields["metadata"] else { return object }
        metadata["managedFields"] = nil
        fields["metadata"] = .object(metadata)
        fields["apiVersion"] = .string(kind.apiVersion)
        fields["kind"] = .string(kind.kind)
        return .object(fields)
    }

    @Test func replicasAndResourcesInTheClusterSpecReachTheStatefulSet() async throws {
        try await withKubeSim(workloads: true) { _, client in
            try await installOperatorPrerequisites(client)
            let running = RunningOperator(client: client)
            var cluster = try exampleCluster("qdrant-cluster.yaml", name: "scaled")
            cluster.spec.componentSpecs[0].replicas = 1
            _ = try await client.create(cluster)
            _ = try await waitForPhase(.running, "scaled", client: client)
            #expect(try await objectNames(PolicyV1.PodDisruptionBudget.descriptor, cluster: "scaled", client: client) == [])

            _ = try await client.patch(
                Cluster.self, name: "scaled", namespace: "default",
                patch: .json([
                    .replace("/spec/componentSpecs/0/replicas", 2),
                    .replace("/spec/componentSpecs/0/resources/limits/memory", "6Gi"),
                ]))
            let statefulSet = try await eventually("the StatefulSet to follow") { () -> AppsV1.StatefulSet? in
                let statefulSet = try await client.get(AppsV1.StatefulSet.self, name: "scaled-qdrant", namespace: "default")
                let limit = statefulSet.spec?.template.spec?.containers.first?.resources?.limits?["memory"]
                return statefulSet.spec?.replicas == 2 && limit == Quantity("6Gi") ? statefulSet : nil
            }
            #expect(statefulSet.spec?.template.spec?.containers.first?.resources?.requests?["memory"] == Quantity("1Gi"))
            let running2 = try await waitForPhase(.running, "scaled", client: client)
            #expect(running2.status?.components?["qdrant"]?.podsReady == true)
            let environment = try await client.get(CoreV1.ConfigMap.self, name: "scaled-qdrant-env", namespace: "default")
            #expect(environment.data?["VB_REPLICA_COUNT"] == "2")
            // A budget appears once there is more than one replica.
            #expect(try await objectNames(PolicyV1.PodDisruptionBudget.descriptor, cluster: "scaled", client: client) == ["scaled-qdrant"])
            await running.stop()
        }
    }

    @Test("each termination policy leaves what it promises", arguments: TerminationPolicy.allCases)
    func terminationPolicy(_ policy: TerminationPolicy) async throws {
        try await withKubeSim(workloads: true) { _, client in
            try await installOperatorPrerequisites(client)
            let running = RunningOperator(client: client)
            let name = "ended-\(policy.rawValue.lowercased())"
            var cluster = try exampleCluster("qdrant-cluster.yaml", name: name)
            cluster.spec.terminationPolicy = policy
            cluster.spec.componentSpecs[0].replicas = 2
            _ = try await client.create(cluster)
            _ = try await waitForPhase(.running, name, client: client)
            let password = try await client.get(CoreV1.Secret.self, name: "\(name)-conn-credential", namespace: "default").data?["password"]

            try await client.delete(Cluster.self, name: name, namespace: "default")
            switch policy {
            case .doNotTerminate:
                let refused = try await eventually("the refusal") { () -> Cluster? in
                    let stored = try await client.get(Cluster.self, name: name, namespace: "default")
                    return Conditions.find(stored.status?.conditions, type: "Ready")?.reason == "DeletionRefused" ? stored : nil
                }
                #expect(refused.metadata?.deletionTimestamp != nil)
                #expect(try await objectNames(AppsV1.StatefulSet.descriptor, cluster: name, client: client) == ["\(name)-qdrant"])
                let events = try await client.list(CoreV1.Event.self, namespace: "default").items
                #expect(events.contains { $0.reason == "DeletionRefused" && $0.involvedObject.name == name && $0.type == "Warning" })
                // Changing the policy lets the deletion finish.
                _ = try await client.patch(Cluster.self, name: name, namespace: "default", patch: .merge(["spec": ["terminationPolicy": "Delete"]]))
                try await waitForDeletion(name, client: client)
            case .halt:
                try await waitForDeletion(name, client: client)
                // Already gone when the Cluster is: the finalizer waits for the server to remove them.
                for kind in ClusterTermination.removedByHalt {
                    #expect(try await objectNames(kind, cluster: name, client: client) == [], "\(kind.kind)")
                }
                // Kept, and no longer owned, so the garbage collector leaves them.
                let secret = try await client.get(CoreV1.Secret.self, name: "\(name)-conn-credential", namespace: "default")
                #expect(secret.metadata?.ownerReferences == nil)
                #expect(try await objectNames(CoreV1.ConfigMap.descriptor, cluster: name, client: client).count == 3)
                #expect(try await objectNames(CoreV1.PersistentVolumeClaim.descriptor, cluster: name, client: client).count == 2)
                // The same name again adopts them: the password is the one it had.
                _ = try await client.create(cluster)
                _ = try await waitForPhase(.running, name, client: client)
                let again = try await client.get(CoreV1.Secret.self, name: "\(name)-conn-credential", namespace: "default")
                #expect(again.data?["password"] == password)
                #expect(again.metadata?.ownerReferences?.first?.kind == "Cluster")
            case .delete, .wipeOut:
                try await waitForDeletion(name, client: client)
                for kind in Self.componentKinds + [CoreV1.PersistentVolumeClaim.descriptor] {
                    #expect(try await objectNames(kind, cluster: name, client: client) == [], "\(kind.kind)")
                }
            }
            await running.stop()
        }
    }

    @Test func theFinalizerStaysWhileTheServerStillHoldsAnOwnedObject() async throws {
        try await withKubeSim(workloads: true) { _, client in
            try await installOperatorPrerequisites(client)
            let running = RunningOperator(client: client)
            let name = "held"
            var cluster = try exampleCluster("qdrant-cluster.yaml", name: name)
            cluster.spec.terminationPolicy = .delete
            cluster.spec.componentSpecs[0].replicas = 1
            _ = try await client.create(cluster)
            _ = try await waitForPhase(.running, name, client: client)
            // Another controller's finalizer keeps the ConfigMap on the server, with a deletionTimestamp, after the
            // operator has deleted it.
            let held = "\(name)-qdrant-env"
            _ = try await client.patch(
                CoreV1.ConfigMap.self, name: held, namespace: "default",
                patch: .merge(["metadata": ["finalizers": ["example.com/hold"]]]))

            try await client.delete(Cluster.self, name: name, namespace: "default")
            let waiting = try await eventually("the Cluster to wait for the held ConfigMap alone") { () -> Cluster? in
                let stored = try await client.get(Cluster.self, name: name, namespace: "default")
                return stored.status?.message?.hasSuffix("remove ConfigMap/\(held)") == true ? stored : nil
            }
            #expect(waiting.metadata?.finalizers?.contains(ClusterNames.finalizer) == true)
            #expect(waiting.status?.phase == .deleting)
            let configMap = try await client.get(CoreV1.ConfigMap.self, name: held, namespace: "default")
            #expect(configMap.metadata?.deletionTimestamp != nil)

            _ = try await client.patch(
                CoreV1.ConfigMap.self, name: held, namespace: "default",
                patch: .merge(["metadata": ["finalizers": .null]]))
            try await waitForDeletion(name, client: client)
            for kind in Self.componentKinds + [CoreV1.PersistentVolumeClaim.descriptor] {
                #expect(try await objectNames(kind, cluster: name, client: client) == [], "\(kind.kind)")
            }
            await running.stop()
        }
    }

    @Test func aNewOperatorFinishesWhatAStoppedOneStartedWithNoDuplicateOrOrphan() async throws {
        try await withKubeSim(workloads: true) { _, client in
            try await installOperatorPrerequisites(client)
            let first = RunningOperator(client: client)
            _ = try await client.create(try exampleCluster("qdrant-cluster.yaml", name: "handover"))
            // Stopped as soon as it has written part of the cluster.
            _ = try await eventually("the first objects") {
                try await objectNames(CoreV1.ConfigMap.descriptor, cluster: "handover", client: client).isEmpty ? nil : true
            }
            // Cancelled mid-work: in-flight requests are abandoned, as a crash would leave them.
            await first.stop()
            let second = RunningOperator(client: client)
            let cluster = try await waitForPhase(.running, "handover", client: client)
            let uid = try #require(cluster.metadata?.uid)
            #expect(
                try await objectNames(CoreV1.ConfigMap.descriptor, cluster: "handover", client: client)
                    == ["handover-qdrant-env", "handover-qdrant-qdrant-config", "handover-qdrant-qdrant-scripts"])
            #expect(try await objectNames(CoreV1.Secret.descriptor, cluster: "handover", client: client) == ["handover-conn-credential"])
            for kind in Self.componentKinds {
                let list = try await client.list(kind, namespace: "default", options: ListOptions(labelSelector: "app.kubernetes.io/instance=handover"))
                for object in list.items {
                    let owners = object["metadata"]?["ownerReferences"]?.arrayValue ?? []
                    #expect(owners.count == 1 && owners.first?["uid"]?.stringValue == uid, "\(kind.kind) \(object["metadata"]?["name"] ?? "") owners \(owners)")
                }
            }
            await second.stop()
        }
    }

    @Test func aNewOperatorWhoseCachesLoadSlowlyKeepsTheCredential() async throws {
        try await withKubeSim(workloads: true) { server, client in
            try await installOperatorPrerequisites(client)
            let first = RunningOperator(client: client)
            _ = try await client.create(try exampleCluster("qdrant-cluster.yaml", name: "kept"))
            _ = try await waitForPhase(.running, "kept", client: client)
            let before = try await client.get(CoreV1.Secret.self, name: "kept-conn-credential", namespace: "default").data
            await first.stop()

            // Most lists fail at first, so the informers sync one by one; a reconcile before the Secret's informer
            // had synced would take the credential for missing and make a new one.
            try await server.setFaults(FaultInjection(errorRates: ["list": .init(internalError: 0.6)], seed: 7))
            let second = RunningOperator(client: client)
            _ = try await client.patch(
                Cluster.self, name: "kept", namespace: "default",
                patch: .json([
                    .replace("/spec/componentSpecs/0/replicas", 4)
                ]))
            _ = try await eventually("the new operator to scale the StatefulSet") {
                try await client.get(AppsV1.StatefulSet.self, name: "kept-qdrant", namespace: "default").spec?.replicas == 4 ? true : nil
            }
            try await server.setFaults(.none)
            #expect(try await client.get(CoreV1.Secret.self, name: "kept-conn-credential", namespace: "default").data == before)
            await second.stop()
        }
    }

    @Test func everythingConvergesDespiteInjectedErrorsAndDroppedWatches() async throws {
        try await withKubeSim(workloads: true) { server, client in
            try await installOperatorPrerequisites(client)
            _ = try await client.create(try exampleCluster("qdrant-cluster.yaml", name: "chaos-qdrant"))
            _ = try await client.create(try exampleCluster("pgvector-cluster.yaml", name: "chaos-pgvector"))
            // One request in ten fails (500, 429 with Retry-After, 409), and watches end at random.
            try await server.setFaults(
                FaultInjection(
                    errorRates: ["*": .init(internalError: 0.04, tooManyRequests: 0.03, conflict: 0.03)], watchDropRate: 0.05,
                    seed: 20_261_201))
            let running = RunningOperator(client: client)
            let qdrant = try await waitForPhase(.running, "chaos-qdrant", client: client)
            let pgvector = try await waitForPhase(.running, "chaos-pgvector", client: client)
            try await server.setFaults(.none)
            #expect(qdrant.status?.components?["qdrant"]?.podsReady == true)
            #expect(pgvector.status?.components?["postgresql"]?.podsReady == true)
            #expect(
                try await objectNames(CoreV1.ConfigMap.descriptor, cluster: "chaos-qdrant", client: client)
                    == ["chaos-qdrant-qdrant-env", "chaos-qdrant-qdrant-qdrant-config", "chaos-qdrant-qdrant-qdrant-scripts"])
            #expect(try await objectNames(CoreV1.Secret.descriptor, cluster: "chaos-pgvector", client: client) == ["chaos-pgvector-conn-credential"])
            await running.stop()
        }
    }

    @Test func anIdleClusterCausesNoWrites() async throws {
        try await withKubeSim(workloads: true) { server, client in
            try await installOperatorPrerequisites(client)
            let metrics = TestMetrics()
            let running = RunningOperator(client: client, metricsFactory: metrics)
            _ = try await client.create(try exampleCluster("qdrant-cluster.yaml"))
            _ = try await waitForPhase(.running, "vectors", client: client)
            // An annotation changes nothing a reconcile builds, yet makes the operator look again: three looks in a
            // row that write nothing but the test's own patches show the Cluster idle. The first looks after Running
            // may still write (a reconcile that read the cache before its own status write arrived writes it once
            // more), so a few rounds let it settle.
            let reconciles = ReconcileCounter(metrics, controller: "cluster")
            let touch = RequestKey(verb: "patch", resource: "clusters.apps.vectorblocks.io")
            var writes: [RequestKey: Int] = [:]
            for round in 0..<10 {
                await server.resetRequestCounts()
                for look in 0..<3 {
                    let looked = reconciles.count
                    _ = try await client.patch(
                        Cluster.self, name: "vectors", namespace: "default",
                        patch: .merge(["metadata": ["annotations": ["test/touched": .string("\(round)-\(look)")]]]))
                    _ = try await eventually("a reconcile after the touch") { reconciles.count > looked ? true : nil }
                }
                writes = await server.requestCounts().filter { $0.key.isWrite }
                writes[touch] = writes[touch].map { $0 - 3 }
                writes = writes.filter { $0.value != 0 }
                if writes.isEmpty { break }
            }
            #expect(writes.isEmpty, "writes while idle: \(writes)")
            await running.stop()
        }
    }

    @Test func badInputGetsAConditionAndAnEventAndTheOthersAreServed() async throws {
        try await withKubeSim(workloads: true) { _, client in
            try await installOperatorPrerequisites(client)
            let running = RunningOperator(client: client)
            var unknown = try exampleCluster("qdrant-cluster.yaml", name: "unknown-engine")
            unknown.spec.clusterDefinitionRef = "milvus"
            unknown.spec.clusterVersionRef = nil
            _ = try await client.create(unknown)
            var wrongComponent = try exampleCluster("qdrant-cluster.yaml", name: "wrong-component")
            wrongComponent.spec.componentSpecs[0].componentDefRef = "qdrnt"
            _ = try await client.create(wrongComponent)
            _ = try await client.create(try exampleCluster("qdrant-cluster.yaml", name: "good"))

            for (name, words) in [
                ("unknown-engine", ["spec.clusterDefinitionRef", "\"milvus\" not found", "installed: pgvector, qdrant"]),
                ("wrong-component", ["spec.componentSpecs[0].componentDefRef", "\"qdrnt\"", "use one of: qdrant"]),
            ] {
                let failed = try await waitForPhase(.failed, name, client: client)
                let condition = try #require(Conditions.find(failed.status?.conditions, type: "ProvisioningStarted"))
                #expect(condition.status == "False" && condition.reason == "PreCheckFailed")
                for word in words { #expect(condition.message.contains(word), "\(condition.message)") }
                let event = try await eventually("the event of \(name)") {
                    try await client.list(CoreV1.Event.self, namespace: "default").items.first {
                        $0.involvedObject.name == name && $0.reason == "PreCheckFailed"
                    }
                }
                #expect(event.type == "Warning")
                #expect(try await objectNames(AppsV1.StatefulSet.descriptor, cluster: name, client: client) == [])
            }
            _ = try await waitForPhase(.running, "good", client: client)

            // Fixing the input is enough: the same Cluster then provisions.
            _ = try await client.patch(
                Cluster.self, name: "wrong-component", namespace: "default",
                patch: .json([
                    .replace("/spec/componentSpecs/0/componentDefRef", "qdrant")
                ]))
            _ = try await waitForPhase(.running, "wrong-component", client: client)
            await running.stop()
        }
    }

    @Test func aStandbyOperatorWritesNothingAndTakesOverWhenTheLeaderStops() async throws {
        try await withKubeSim(workloads: true) { _, client in
            try await installOperatorPrerequisites(client)
            let leaderMetrics = TestMetrics()
            let standbyMetrics = TestMetrics()
            let leader = RunningOperator(client: client, leaderElection: election("leader"), metricsFactory: leaderMetrics)
            _ = try await eventually("the leader to hold the lease") {
                try await client.get(CoordinationV1.Lease.self, name: "vectorblocks-operator", namespace: "default").spec?.holderIdentity == "leader"
                    ? true : nil
            }
            let standby = RunningOperator(client: client, leaderElection: election("standby"), metricsFactory: standbyMetrics)
            _ = try await client.create(try exampleCluster("qdrant-cluster.yaml", name: "led"))
            _ = try await waitForPhase(.running, "led", client: client)
            let reconciles = { (metrics: TestMetrics) in
                metrics.counterTotal(label: "controller_runtime_reconcile_total", dimensions: [("controller", "cluster"), ("result", "success")])
            }
            #expect(reconciles(leaderMetrics) > 0)
            // Read before the lease: if the lease never changed hands by then, the standby never led before either.
            let standbyReconciles = reconciles(standbyMetrics)
            let held = try await client.get(CoordinationV1.Lease.self, name: "vectorblocks-operator", namespace: "default").spec
            if held?.holderIdentity == "leader", held?.leaseTransitions ?? 0 == 0 {
                #expect(standbyReconciles == 0)
            } else {
                // A machine loaded past the renew deadline: the leader stopped, and the standby rightly took over.
                let ended = await leader.exit()
                #expect(throws: LeaderElectionError.self) { try ended.get() }
            }

            await leader.stop()
            _ = try await client.create(try exampleCluster("qdrant-cluster.yaml", name: "after-handover"))
            _ = try await eventually("the standby to provision the new cluster", timeout: .seconds(180)) {
                try await objectNames(AppsV1.StatefulSet.descriptor, cluster: "after-handover", client: client).isEmpty ? nil : true
            }
            let lease = try await client.get(CoordinationV1.Lease.self, name: "vectorblocks-operator", namespace: "default")
            #expect(lease.spec?.holderIdentity == "standby")
            #expect((lease.spec?.leaseTransitions ?? 0) >= 1)
            await standby.stop()
        }
    }

    /// Two operators never write in the same interval: the leader, cut off from the API server with its requests
    /// hanging, stops writing before the standby can take the lease, and nothing it sent lands afterwards, as the
    /// server's own log of writes by identity shows.
    @Test func aPartitionedLeaderStopsWritingBeforeTheStandbyTakesOver() async throws {
        try await withKubeSim(workloads: true) { server, client in
            try await installOperatorPrerequisites(client)
            let proxy = try await SeverableProxy.start(upstreamPort: server.port)
            let leaderClient = try KubeClient(configuration: KubeClientConfiguration(server: proxy.url, userAgent: "operator-leader"))
            let standbyClient = try KubeClient(configuration: KubeClientConfiguration(server: server.baseURL, userAgent: "operator-standby"))
            let leader = RunningOperator(client: leaderClient, leaderElection: election("leader"))
            _ = try await eventually("the leader to hold the lease") {
                try await client.get(CoordinationV1.Lease.self, name: "vectorblocks-operator", namespace: "default").spec?.holderIdentity == "leader"
                    ? true : nil
            }
            let standby = RunningOperator(client: standbyClient, leaderElection: election("standby"))
            _ = try await client.create(try exampleCluster("qdrant-cluster.yaml", name: "before-partition"))
            _ = try await waitForPhase(.running, "before-partition", client: client)

            proxy.sever()
            _ = try await client.create(try exampleCluster("qdrant-cluster.yaml", name: "during-partition"))
            _ = try await waitForPhase(.running, "during-partition", client: client)
            #expect(try await client.get(CoordinationV1.Lease.self, name: "vectorblocks-operator", namespace: "default").spec?.holderIdentity == "standby")
            proxy.heal()
            guard case .failure(let error) = await leader.exit() else {
                Issue.record("the partitioned leader kept running after losing its lease")
                return
            }
            #expect(error is LeaderElectionError)
            _ = try await client.create(try exampleCluster("qdrant-cluster.yaml", name: "after-partition"))
            _ = try await waitForPhase(.running, "after-partition", client: client)

            let writes = await server.writeLog().filter { !$0.path.contains("/leases") }
            let leaderWrites = writes.filter { $0.userAgent == "operator-leader" }
            let standbyWrites = writes.filter { $0.userAgent == "operator-standby" }
            #expect(!leaderWrites.isEmpty)
            #expect(!standbyWrites.isEmpty)
            if let lastOfLeader = leaderWrites.map(\.completed).max(), let firstOfStandby = standbyWrites.map(\.completed).min() {
                #expect(lastOfLeader < firstOfStandby, "the leader wrote \(leaderWrites.filter { $0.completed >= firstOfStandby })")
            }
            await standby.stop()
            try await proxy.shutdown()
            try await leaderClient.shutdown()
            try await standbyClient.shutdown()
        }
    }
}

/// A renewal that outlasts the renew deadline ends the leadership, as it must; on a two-core machine running the
/// whole suite a renewal has taken over ten seconds, so the deadlines are generous.
func election(_ identity: String) -> LeaderElector.Configuration {
    LeaderElector.Configuration(
        leaseName: "vectorblocks-operator", namespace: "default", identity: identity,
        leaseDuration: .seconds(40), renewDeadline: .seconds(30), retryPeriod: .seconds(2))
}

func waitForDeletion(_ name: String, client: KubeClient) async throws {
    _ = try await eventually("cluster \(name) to be deleted") { () -> Bool? in
        do {
            _ = try await client.get(Cluster.self, name: name, namespace: "default")
            return nil
        } catch let error as KubeAPIError where error.isNotFound {
            return true
        }
    }
}
