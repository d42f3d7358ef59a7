import KubeKit
import Testing

@testable import VectorBlocksOperator

/// The memo that spares an idle component its engine questions must not outlive a change of the designated primary:
/// a switchover changes no pod.
@Suite struct EngineObservationsTests {
    @Test func aNewDesignatedPrimaryIsAChangeEvenWithTheSamePods() async {
        let observations = EngineObservations()
        let key = EngineObservations.Key(names: ClusterNames(cluster: "ha", namespace: "default"), component: "postgresql")
        let pods = [CoreV1.Pod(metadata: .init(labels: ["apps.vectorblocks.io/role": "primary"], name: "ha-postgresql-2", uid: "u2"))]
        #expect(await observations.hasChanged(key, pods: pods, designatedPrimary: "ha-postgresql-2"))
        await observations.record(key, pods: pods, designatedPrimary: "ha-postgresql-2")
        #expect(await !observations.hasChanged(key, pods: pods, designatedPrimary: "ha-postgresql-2"))
        #expect(await observations.hasChanged(key, pods: pods, designatedPrimary: "ha-postgresql-0"))
    }
}
