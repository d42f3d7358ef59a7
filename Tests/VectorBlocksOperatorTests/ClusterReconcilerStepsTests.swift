import OperatorKit
import Testing

@testable import VectorBlocksOperator

/// The reconcile's last step, pure: what makes the operator look at a Cluster again without a Kubernetes event.
@Suite("Cluster reconcile steps")
struct ClusterReconcilerStepsTests {
    @Test func nothingPendingMeansNoLookAgain() {
        #expect(ClusterReconciler.nextLook(recreating: false, scaleIns: [:], engineProblems: false).requeueAfter == nil)
        #expect(ClusterReconciler.nextLook(recreating: false, scaleIns: ["qdrant": .ready], engineProblems: false).requeueAfter == nil)
    }

    @Test func whatProgressesInsideTheEngineIsLookedAtAgainSoonestFirst() {
        let waiting: [String: ScaleInStep] = ["qdrant": .waiting("moving shards")]
        let refused: [String: ScaleInStep] = ["search": .refused("replication factor 3 needs 3 peers")]
        #expect(ClusterReconciler.nextLook(recreating: true, scaleIns: waiting, engineProblems: true).requeueAfter == .milliseconds(500))
        #expect(ClusterReconciler.nextLook(recreating: false, scaleIns: waiting.merging(refused) { $1 }, engineProblems: true).requeueAfter == .seconds(2))
        #expect(ClusterReconciler.nextLook(recreating: false, scaleIns: refused, engineProblems: true).requeueAfter == .seconds(30))
        #expect(ClusterReconciler.nextLook(recreating: false, scaleIns: [:], engineProblems: true).requeueAfter == .seconds(10))
    }
}
