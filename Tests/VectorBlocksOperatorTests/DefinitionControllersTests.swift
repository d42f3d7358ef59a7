import KubeKit
import KubeSim
import OperatorKit
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

@testable import VectorBlocksOperator

/// The ClusterDefinition and ClusterVersion controllers, wired as the operator wires them, against KubeSim.
private struct DefinitionControllers {
    let definitions: Informer<ClusterDefinition>
    let versions: Informer<ClusterVersion>
    let tasks: [Task<Void, Never>]

    init(client: KubeClient) async {
        definitions = Informer<ClusterDefinition>(client: client)
        versions = Informer<ClusterVersion>(client: client)
        let events = EventRecorder(client: client, component: "vectorblocks-operator")
        let definitionController = Controller(
            name: "clusterdefinition",
            reconciler: ClusterDefinitionReconciler(client: client, definitions: definitions.cache, events: events))
        let versionController = Controller(
            name: "clusterversion",
            reconciler: ClusterVersionReconciler(
                client: client, versions: versions.cache, definitions: definitions.cache, events: events))
        await definitionController.for(definitions)
        await versionController.for(versions)
        let versionCache = versions.cache
        await versionController.watches(definitions) { event in
            await ClusterVersionReconciler.affectedVersions(of: event, in: versionCache)
        }
        let definitions = definitions
        let versions = versions
        tasks = [
            Task { await definitions.run() }, Task { await versions.run() },
            Task { await definitionController.run() }, Task { await versionController.run() },
        ]
    }

    func stop() { for task in tasks { task.cancel() } }
}

/// Polls the API, boundedly, until `predicate` holds for the object's status.
private func waitForStatus<Object: KubernetesObject>(
    _ type: Object.Type, name: String, client: KubeClient, status: KeyPath<Object, AvailabilityStatus?>,
    until predicate: (AvailabilityStatus?) -> Bool
) async throws -> AvailabilityStatus? {
    var current: AvailabilityStatus?
    for _ in 0..<1_500 {
        current = try await client.get(Object.self, name: name)[keyPath: status]
        if predicate(current) { return current }
        try await Task.sleep(for: .milliseconds(40))
    }
    return current
}

@Suite("ClusterDefinition and ClusterVersion controllers")
struct DefinitionControllersTests {
    @Test func addonsBecomeAvailableAndAVersionWaitsForItsDefinition() async throws {
        try await withKubeSim { _, client in
            try await installVectorBlocksCRDs(client)
            let controllers = await DefinitionControllers(client: client)
            defer { controllers.stop() }
            let qdrant = try Addon.qdrant.objects()

            // The version arrives first: Unavailable, saying which definition is missing.
            _ = try await client.create(qdrant.version)
            let versionName = try #require(qdrant.version.metadata?.name)
            let waiting = try await waitForStatus(
                ClusterVersion.self, name: versionName, client: client, status: \.status
            ) { $0?.phase == .unavailable }
            #expect(waiting?.phase == .unavailable)
            #expect(waiting?.message?.contains("spec.clusterDefinitionRef") == true)
            #expect(waiting?.message?.contains("not found") == true)

            // Its definition appears: both become Available, with their generations observed.
            _ = try await client.create(qdrant.definition)
            let definitionName = try #require(qdrant.definition.metadata?.name)
            let definitionStatus = try await waitForStatus(
                ClusterDefinition.self, name: definitionName, client: client, status: \.status
            ) { $0?.phase == .available }
            #expect(definitionStatus?.phase == .available)
            #expect(definitionStatus?.observedGeneration == 1)
            let versionStatus = try await waitForStatus(
                ClusterVersion.self, name: versionName, client: client, status: \.status
            ) { $0?.phase == .available }
            #expect(versionStatus?.phase == .available)
            #expect(versionStatus?.message == nil)
            #expect(versionStatus?.clusterDefGeneration == 1)

            let warnings = try await client.list(CoreV1.Event.self, namespace: "default").items
            #expect(warnings.contains { $0.reason == "Unavailable" && $0.involvedObject.name == versionName })
        }
    }

    @Test func aVersionThatMissesAComponentIsUnavailableWithTheField() async throws {
        try await withKubeSim { _, client in
            try await installVectorBlocksCRDs(client)
            let controllers = await DefinitionControllers(client: client)
            defer { controllers.stop() }
            let pgvector = try Addon.pgvector.objects()
            _ = try await client.create(pgvector.definition)
            var partial = pgvector.version
            partial.metadata?.name = "pgvector-partial"
            // Schema-valid, but it names a component the definition lacks and leaves the real one uncovered.
            partial.spec.componentVersions[0].componentDefRef = "not-a-component"
            _ = try await client.create(partial)
            // The version may be checked before the definition reaches the cache ("not found"); it is checked again
            // when the definition arrives.
            let status = try await waitForStatus(
                ClusterVersion.self, name: "pgvector-partial", client: client, status: \.status
            ) { $0?.message?.contains("spec.componentVersions") == true }
            #expect(status?.phase == .unavailable)
            #expect(status?.message?.contains("spec.componentVersions") == true)
        }
    }
}
