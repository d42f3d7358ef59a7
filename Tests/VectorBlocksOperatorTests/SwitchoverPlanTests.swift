import Foundation
import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// A Switchover's and synchronous replication's pure decisions, without a server: which standby a switchover
/// promotes or why it refuses, how far it has come, and the synchronous_standby_names a primary keeps.
@Suite("pgvector switchover and synchronous replication decisions")
struct SwitchoverPlanTests {
    func pod(_ ordinal: Int, ready: Bool = true, deleting: Bool = false, role: String? = nil) -> CoreV1.Pod {
        CoreV1.Pod(
            metadata: .init(
                deletionTimestamp: deleting ? MetaV1.Time(rfc3339: "2026-12-03T00:00:00Z") : nil,
                labels: role.map { [ClusterNames.roleLabel: $0] }, name: "ha-postgresql-\(ordinal)", namespace: "default"),
            status: CoreV1.PodStatus(conditions: [.init(status: ready ? "True" : "False", type: "Ready")], phase: "Running"))
    }

    let primary = ReplicaState(inRecovery: false, receivedLSN: WALPosition("0/9000000"), upstream: "")
    func standby(_ lsn: String, streaming: Bool = true, upstream: String = "host=ha-postgresql-0") -> ReplicaState {
        ReplicaState(inRecovery: true, receivedLSN: WALPosition(lsn), upstream: upstream, streaming: streaming)
    }
    func followsZero(_ state: ReplicaState) -> Bool { state.upstream == "host=ha-postgresql-0" }

    @Test func aNamedStreamingStandbyIsPromotedAndStarTakesTheMostAdvanced() {
        let pods = [pod(0), pod(1), pod(2)]
        let states = ["ha-postgresql-0": primary, "ha-postgresql-1": standby("0/8000000"), "ha-postgresql-2": standby("0/8000100")]
        #expect(
            SwitchoverPlan.choose("ha-postgresql-1", primary: "ha-postgresql-0", states: states, pods: pods, isFollowing: followsZero)
                == .promote("ha-postgresql-1"))
        #expect(SwitchoverPlan.choose("*", primary: "ha-postgresql-0", states: states, pods: pods, isFollowing: followsZero) == .promote("ha-postgresql-2"))
        // Equals: the lowest ordinal.
        let tied = ["ha-postgresql-0": primary, "ha-postgresql-2": standby("0/8000000"), "ha-postgresql-1": standby("0/8000000")]
        #expect(SwitchoverPlan.choose("*", primary: "ha-postgresql-0", states: tied, pods: pods, isFollowing: followsZero) == .promote("ha-postgresql-1"))
    }

    @Test func aCandidateThatIsNotAReadyStreamingStandbyOfThePrimaryIsRefused() {
        let pods = [pod(0), pod(1), pod(2, ready: false), pod(3), pod(4)]
        let states = [
            "ha-postgresql-0": primary,
            "ha-postgresql-1": standby("0/8000000", streaming: false),
            "ha-postgresql-2": standby("0/8000000"),
            "ha-postgresql-3": standby("0/8000000", upstream: "host=elsewhere"),
        ]
        func refusal(_ instance: String, _ states: [String: ReplicaState] = states) -> String? {
            guard case .refused(let why) = SwitchoverPlan.choose(instance, primary: "ha-postgresql-0", states: states, pods: pods, isFollowing: followsZero)
            else { return nil }
            return why
        }
        #expect(refusal("ha-postgresql-1")?.contains("is not a streaming standby of the primary ha-postgresql-0 (its WAL receiver is not streaming)") == true)
        #expect(refusal("ha-postgresql-2")?.contains("is not ready") == true)
        #expect(refusal("ha-postgresql-3")?.contains("(it streams from elsewhere)") == true)
        #expect(refusal("ha-postgresql-4")?.contains("did not answer") == true)
        #expect(refusal("ha-postgresql-0")?.contains("is the primary already") == true)
        #expect(refusal("*")?.contains("no ready standby is streaming from the primary ha-postgresql-0") == true)
        var primaryDown = states
        primaryDown["ha-postgresql-0"] = nil
        #expect(refusal("ha-postgresql-1", primaryDown)?.contains("is not running read-write") == true)
    }

    @Test func progressCountsThePromotionThenTheFormerPrimaryRejoined() {
        let before = [pod(0, role: "secondary"), pod(1, role: "secondary")]
        #expect(SwitchoverPlan.progress(from: "ha-postgresql-0", to: "ha-postgresql-1", pods: before) == (0, 2))
        let promoted = [pod(0, deleting: true, role: "secondary"), pod(1, role: "primary")]
        #expect(SwitchoverPlan.progress(from: "ha-postgresql-0", to: "ha-postgresql-1", pods: promoted) == (1, 2))
        let rejoined = [pod(0, role: "secondary"), pod(1, role: "primary")]
        #expect(SwitchoverPlan.progress(from: "ha-postgresql-0", to: "ha-postgresql-1", pods: rejoined) == (2, 2))
    }

    @Test func synchronousStandbysAreThoseThatExistByPodName() {
        let pods = [pod(0), pod(1), pod(2)]
        #expect(
            SynchronousStandbys.setting(number: 1, primary: "ha-postgresql-1", pods: pods, replicas: 3)
                == #"ANY 1 ("ha-postgresql-0", "ha-postgresql-2")"#)
        #expect(SynchronousStandbys.setting(number: nil, primary: "ha-postgresql-0", pods: pods, replicas: 3) == "")
        // A pod that is gone, or leaves in a scale-in, is not waited for; the number is capped at those left.
        #expect(SynchronousStandbys.setting(number: 2, primary: "ha-postgresql-0", pods: [pod(0), pod(2)], replicas: 3) == #"ANY 1 ("ha-postgresql-2")"#)
        #expect(SynchronousStandbys.setting(number: 1, primary: "ha-postgresql-0", pods: pods, replicas: 2) == #"ANY 1 ("ha-postgresql-1")"#)
        #expect(SynchronousStandbys.setting(number: 1, primary: "ha-postgresql-0", pods: [pod(0)], replicas: 3) == "")
    }

    @Test func synchronousNumberMustLeaveThePrimaryOut() throws {
        var cluster = try exampleCluster("pgvector-cluster.yaml", name: "ha")
        cluster.spec.componentSpecs[0].replicas = 2
        cluster.spec.componentSpecs[0].replication = ComponentReplication(synchronous: SynchronousReplication(number: 2))
        let errors = cluster.validate().map(\.description)
        #expect(
            errors.contains {
                $0.hasPrefix("spec.componentSpecs[0].replication.synchronous.number: Invalid value: 2: must be less than the component's replicas (2)")
            }, "\(errors)")
        cluster.spec.componentSpecs[0].replication = ComponentReplication(synchronous: SynchronousReplication(number: 0))
        #expect(cluster.validate().contains { $0.field == "spec.componentSpecs[0].replication.synchronous.number" })
        cluster.spec.componentSpecs[0].replication = ComponentReplication(synchronous: SynchronousReplication(number: 1))
        #expect(!cluster.validate().contains { $0.field.contains("synchronous") })
    }

    @Test func aSwitchoverNamesAPodOfItsComponentThatIsNotThePrimary() throws {
        var cluster = try exampleCluster("pgvector-cluster.yaml", name: "ha")
        cluster.spec.componentSpecs[0].replicas = 2
        cluster.status = ClusterStatus(components: ["postgresql": ClusterComponentStatus(primary: "ha-postgresql-0")])
        func errors(_ instance: String, component: String = "postgresql") -> [String] {
            OpsRequest(
                spec: OpsRequestSpec(
                    clusterRef: "ha", type: .switchover, switchover: [.init(componentName: component, instanceName: instance)])
            ).validate(cluster: cluster).map(\.description)
        }
        #expect(errors("ha-postgresql-1").isEmpty)
        #expect(errors("*").isEmpty)
        #expect(
            errors("ha-postgresql-2").contains {
                $0.hasPrefix("spec.switchover[0].instanceName: Not found: component \"postgresql\" has no pod \"ha-postgresql-2\"")
            })
        #expect(
            errors("ha-postgresql-0").contains {
                $0.hasPrefix("spec.switchover[0].instanceName: Invalid value: \"ha-postgresql-0\": it is the primary already")
            })
        #expect(errors("ha-postgresql-1", component: "other").contains { $0.hasPrefix("spec.switchover[0].componentName: Not found") })
        let missing = OpsRequest(spec: OpsRequestSpec(clusterRef: "ha", type: .switchover)).validate(cluster: cluster).map(\.description)
        #expect(missing.contains { $0.hasPrefix("spec.switchover: Required value") })
    }
}
