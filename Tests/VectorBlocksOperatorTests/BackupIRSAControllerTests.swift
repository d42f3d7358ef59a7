import Foundation
import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// The Cluster controller against KubeSim with a backup repository naming an IAM role: the ServiceAccount IRSA trusts
/// the role to appears, annotated, before the pods that run under it; with keys instead it goes again.
@Suite("IRSA for backup pods against KubeSim")
struct BackupIRSAControllerTests {
    @Test("a Cluster archiving with an IAM role gets <cluster>-backup annotated with it and its pods run under it; with keys instead it goes")
    func serviceAccountAndPods() async throws {
        try await withKubeSim(workloads: true) { _, client in
            try await installOperatorPrerequisites(client)
            let running = RunningOperator(client: client)
            var cluster = try exampleCluster("pgvector-cluster.yaml", name: "archived")
            cluster.spec.backup = ClusterBackup(
                method: .pgBasebackup, cronExpression: "0 3 * * *", repository: BackupIRSATests.repository, pitrEnabled: true)
            _ = try await client.create(cluster)

            let account = try await eventually("the backup ServiceAccount") {
                try? await client.get(CoreV1.ServiceAccount.self, name: "archived-backup", namespace: "default")
            }
            #expect(account.metadata?.annotations?["eks.amazonaws.com/role-arn"] == BackupIRSATests.role)
            _ = try await waitForPhase(.running, "archived", client: client)
            let pods = try await client.list(
                CoreV1.Pod.self, namespace: "default", options: ListOptions(labelSelector: "app.kubernetes.io/instance=archived")
            ).items
            #expect(!pods.isEmpty)
            for pod in pods {
                #expect(pod.spec?.serviceAccountName == "archived-backup", "\(pod.metadata?.name ?? "")")
                let token = pod.spec?.volumes?.first { $0.name == "aws-iam-token" }?.projected?.sources?.first?.serviceAccountToken
                #expect(token?.audience == "sts.amazonaws.com" && token?.expirationSeconds == 86400)
                #expect(pod.spec?.containers.first?.env?.first { $0.name == "AWS_ROLE_ARN" }?.value == BackupIRSATests.role)
            }

            // Keys from a Secret instead: the pods no longer need the ServiceAccount, and it is pruned.
            try await client.edit(Cluster.self, name: "archived", namespace: "default") { stored in
                stored.spec.backup?.repository.roleArn = nil
                stored.spec.backup?.repository.credentialsSecretName = "s3-keys"
            }
            try await BackupControllerTests.gone(CoreV1.ServiceAccount.self, "archived-backup", client: client)
            let template = try await eventually("the pod template without the role") { () -> CoreV1.PodSpec? in
                let statefulSet = try await client.get(AppsV1.StatefulSet.self, name: "archived-postgresql", namespace: "default")
                let spec = statefulSet.spec?.template.spec
                return spec?.serviceAccountName == nil ? spec : nil
            }
            #expect(template.volumes?.contains { $0.name == "aws-iam-token" } == false)
            #expect(template.containers.first?.env?.first { $0.name == "AWS_ACCESS_KEY_ID" }?.valueFrom?.secretKeyRef?.name == "s3-keys")
            await running.stop()
        }
    }
}
