import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

@Suite("Backup, spec.backup and spec.restoreFrom")
struct BackupAPITests {
    static let qdrant = try! Addon.qdrant.objects()
    static let pgvector = try! Addon.pgvector.objects()

    @Test func theExamplesAreValidAndTheServersDefaultsAreTheLibrarys() async throws {
        let backup = try decodeYAML("examples/backup.yaml", as: Backup.self)
        #expect(backup.validate() == [])
        #expect(backup.spec.repository?.keyPrefix(namespace: "default", cluster: "vectors", backup: "b") == "prod/default/vectors/b/")
        let restored = try decodeYAML("examples/qdrant-cluster-restored.yaml", as: Cluster.self)
        #expect(restored.validate(definition: Self.qdrant.definition, version: Self.qdrant.version) == [])
        try await withKubeSim { _, client in
            try await installVectorBlocksCRDs(client)
            let storedBackup = try await client.create(backup)
            #expect(storedBackup.spec == backup.withDefaults().spec)
            let pgBackup = try decodeYAML("examples/pgvector-backup.yaml", as: Backup.self)
            #expect(pgBackup.validate() == [])
            #expect(try await client.create(pgBackup).spec.backupMethod == .pgBasebackup)
            let storedCluster = try await client.create(restored)
            #expect(storedCluster.spec == restored.withDefaults().spec)
            #expect(storedCluster.spec.backup?.enabled == true && storedCluster.spec.backup?.pitrEnabled == false)

            // restoreFrom is set once, when the Cluster is made.
            var changed = storedCluster
            changed.spec.restoreFrom = ClusterRestore(backupName: "another")
            await #expect(throws: KubeAPIError.self) { _ = try await client.update(changed) }
            // A method the operator cannot run is refused by the schema.
            var unknown = try JSONValue(encoding: backup)
            unknown["metadata"] = ["name": "pg", "namespace": "default"]
            unknown["spec"]?["backupMethod"] = "pg-dump"
            await #expect(throws: KubeAPIError.self) { _ = try await client.create(Backup.descriptor, unknown) }
        }
    }

    @Test func whatTheSchemaCannotSayIsRefusedNamingTheFieldAndTheFix() throws {
        var cluster = try decodeYAML("examples/qdrant-cluster-restored.yaml", as: Cluster.self)
        cluster.spec.backup?.cronExpression = "0 3 * *"
        cluster.spec.backup?.retentionPeriod = "a week"
        cluster.spec.backup?.pitrEnabled = true
        cluster.spec.backup?.repository.bucket = "Not_A_Bucket"
        cluster.spec.backup?.repository.prefix = "/prod/"
        let errors = cluster.validate(definition: Self.qdrant.definition, version: Self.qdrant.version)
        #expect(
            errors.map(\.field) == [
                "spec.backup.cronExpression", "spec.backup.retentionPeriod", "spec.backup.pitrEnabled", "spec.backup.repository.bucket",
                "spec.backup.repository.prefix",
            ])
        #expect(errors.allSatisfy { !$0.fix.isEmpty })

        var pg = try decodeYAML("examples/pgvector-cluster.yaml", as: Cluster.self)
        pg.spec.backup = ClusterBackup(method: .qdrantSnapshot, cronExpression: "0 3 * * *", repository: BackupRepository(bucket: "b-b", region: "eu-west-1"))
        let pgErrors = pg.validate(definition: Self.pgvector.definition, version: Self.pgvector.version)
        #expect(pgErrors.map(\.field) == ["spec.backup.method"])
        #expect(pgErrors.first?.message.contains("backs up qdrant, not postgresql") == true, "\(pgErrors)")
    }
}
