import Foundation
import KubeKit
import Logging
import OperatorKit
import VectorBlocksAPI

/// Makes a Cluster's objects exist as DESIGN §2 lists them and reports what its workloads do. Level-triggered: each
/// run reads the caches, builds the desired objects, applies only what drifted, prunes what is no longer wanted,
/// and writes the status only when it changed. On deletion it carries out the termination policy.
public struct ClusterReconciler: Reconciler {
    let client: KubeClient
    let caches: OperatorCaches
    let events: EventRecorder
    let generator: any SecretGenerator
    let applier: ObjectApplier
    let engines: EngineHooks
    let logger: Logger
    /// Its status writes, until the cache shows them: it is not woken by them (`OperatorManager`).
    let statusWrites = OwnStatusWrites<ClusterStatus>()
    /// The image of vectorblocks-backup, for the pods of Clusters that archive their WAL.
    var backupImage = OperatorManager.Options.releaseBackupImage

    init(
        client: KubeClient, caches: OperatorCaches, events: EventRecorder, engines: EngineHooks,
        generator: any SecretGenerator = SystemSecretGenerator(), logger: Logger = Logger(label: "vectorblocks.cluster")
    ) {
        self.client = client
        self.engines = engines
        self.caches = caches
        self.events = events
        self.generator = generator
        self.applier = ObjectApplier(client: client, fieldManager: ClusterNames.fieldManager)
        self.logger = logger
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let cached = await caches.clusters.get(key), let namespace = cached.metadata?.namespace,
            let name = cached.metadata?.name
        else {
            await engines.forget(ClusterNames(cluster: key.name, namespace: key.namespace ?? ""))
            statusWrites.forget(key)
            return .done
        }
        var stored = cached
        stored.status = statusWrites.known(key, cachedVersion: cached.metadata?.resourceVersion, cached: cached.status)
        let names = ClusterNames(cluster: name, namespace: namespace)
        if stored.metadata?.deletionTimestamp != nil {
            return try await ClusterTermination(
                client: client, events: events, status: statusWriter
            ).terminate(stored, names: names)
        }
        if !(stored.metadata?.finalizers ?? []).contains(ClusterNames.finalizer) {
            // Written before any object, so no object can outlive a deletion that did not see it.
            try await addFinalizer(to: stored)
            return .done
        }
        var cluster = stored.withDefaults()
        var desired: DesiredState
        let election: EngineHooks.Election
        do {
            desired = try await desiredState(of: cluster, names: names)
            election = try await engines.electPrimaries(
                stored, definition: desired.input.definition, names: names, credential: desired.input.credential, events: events)
            if let written = election.written {
                // The pods' env ConfigMap names the new primary before any server is promoted.
                stored = written
                cluster = written.withDefaults()
                desired = try await desiredState(of: cluster, names: names)
            }
        } catch let failure as PreCheckFailure {
            // Definitions, versions and templates are watched: their arrival or repair reconciles this Cluster again.
            try await failPreCheck(stored, message: failure.message)
            return .done
        } catch let error as ClusterBuildError {
            // The build's problems are fixed by edits the informers see; the work queue's backoff also retries.
            try await failPreCheck(stored, message: error.description)
            throw PreCheckFailure(message: error.description)
        }
        let observed = try await observeOwned(by: stored, names: names)
        let convergence = try await converge(desired.objects, observed: observed, of: stored, names: names)
        let engineOutcome = await runEngineHooks(cluster, stored: stored, desired: desired, names: names)
        try await publishStatus(of: stored, cluster: cluster, desired: desired, names: names, applyProblem: convergence.problem)
        // A failed write is retried with the work queue's backoff; other changes arrive through the informers.
        if let problem = convergence.problem { throw ApplyFailure(message: problem) }
        let next = Self.nextLook(
            recreating: !convergence.recreating.isEmpty, scaleIns: desired.scaleIns.mapValues(\.step),
            engineProblems: !engineOutcome.problems.isEmpty)
        let engineLook: Duration? = engineOutcome.lookAgain ? .milliseconds(500) : engineOutcome.lookAgainIn
        return Self.sooner(next, failover: [engineLook, election.lookAgain].compactMap { $0 }.min())
    }

    /// The objects a Cluster should have now, and the scale-ins its engines hold back.
    struct DesiredState {
        var input: ClusterBuildInput
        var scaleIns: [String: EngineHooks.ScaleIn]
        var objects: [DesiredObject]
    }

    /// Throws `PreCheckFailure` or `ClusterBuildError` when the Cluster cannot be provisioned as it is.
    func desiredState(of cluster: Cluster, names: ClusterNames) async throws -> DesiredState {
        let input = try await buildInput(for: cluster, names: names)
        let scaleIns = await engines.scaleIns(cluster, definition: input.definition, names: names, credential: input.credential)
        var holding = input
        for (component, scaleIn) in scaleIns where scaleIn.step != .ready {
            // Until the engine has readied the leaving pods, the workload keeps them.
            if let index = holding.cluster.spec.componentSpecs.firstIndex(where: { $0.name == component }) {
                holding.cluster.spec.componentSpecs[index].replicas = scaleIn.from
            }
        }
        return DesiredState(input: input, scaleIns: scaleIns, objects: try ClusterObjectsBuilder.objects(holding))
    }

    /// The cached objects labelled as the Cluster's, by `Kind/name`, and those it controls, which it may prune.
    struct ObservedObjects {
        var byKey: [String: JSONValue] = [:]
        var controlled: [String: (kind: ResourceDescriptor, name: String)] = [:]
    }

    func observeOwned(by stored: Cluster, names: ClusterNames) async throws -> ObservedObjects {
        var observed = ObservedObjects()
        for kind in OperatorCaches.ownedKinds {
            for object in try await caches.owned(kind, names: names) {
                guard let objectName = object["metadata"]?["name"]?.stringValue else { continue }
                let key = "\(kind.kind)/\(objectName)"
                observed.byKey[key] = object
                if Self.isControlled(object, by: stored) { observed.controlled[key] = (kind, objectName) }
            }
        }
        return observed
    }

    /// What applying and pruning left to do: objects being re-created (a StatefulSet whose volumes grow) and the
    /// writes the server refused.
    struct Convergence {
        var recreating: Set<String> = []
        var problem: String?
    }

    /// Grows volumes, applies what drifted and prunes what is no longer wanted; refusals become one Warning Event.
    func converge(
        _ desired: [DesiredObject], observed: ObservedObjects, of stored: Cluster, names: ClusterNames
    ) async throws -> Convergence {
        var convergence = Convergence()
        let resize = VolumeClaimResize(client: client, caches: caches)
        for object in desired
        where try await resize.resizeIfGrown(desired: object, observed: observed.byKey[object.description], namespace: names.namespace) {
            convergence.recreating.insert(object.description)
        }
        let outcome = await applier.apply(desired.filter { !convergence.recreating.contains($0.description) }, observed: observed.byKey)
        if !outcome.applied.isEmpty {
            logger.debug("applied", metadata: ["cluster": "\(names.namespace)/\(names.cluster)", "objects": "\(outcome.applied.joined(separator: ","))"])
        }
        let problems =
            outcome.failures.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            + (await prune(observed.controlled, keeping: Set(desired.map(\.description)), names: names))
        if !problems.isEmpty {
            convergence.problem = problems.joined(separator: "; ")
            await events.record(stored, type: .warning, reason: "ApplyResourcesFailed", message: problems.joined(separator: "; "))
        }
        return convergence
    }

    /// Deletes the controlled objects not in `wanted`; returns the deletions the server refused.
    private func prune(
        _ controlled: [String: (kind: ResourceDescriptor, name: String)], keeping wanted: Set<String>, names: ClusterNames
    ) async -> [String] {
        var problems: [String] = []
        for (objectKey, object) in controlled.sorted(by: { $0.key < $1.key }) where !wanted.contains(objectKey) {
            do {
                try await client.delete(
                    object.kind, name: object.name, namespace: names.namespace,
                    options: MetaV1.DeleteOptions(propagationPolicy: PropagationPolicy.background.rawValue))
                logger.info("pruned", metadata: ["cluster": "\(names.namespace)/\(names.cluster)", "object": "\(objectKey)"])
            } catch let error as KubeAPIError where error.isNotFound {
                continue
            } catch {
                problems.append("\(objectKey): \(ObjectApplier.reason(error))")
            }
        }
        return problems
    }

    /// The engines' work after the objects are applied, and Events for what they could not do or refuse.
    func runEngineHooks(_ cluster: Cluster, stored: Cluster, desired: DesiredState, names: ClusterNames) async -> EngineHooks.AfterApply {
        let input = desired.input
        let events = events
        let outcome = await engines.afterApply(cluster, definition: input.definition, names: names, credential: input.credential) {
            type, reason, message in
            await events.record(stored, type: type, reason: reason, message: message)
        }
        let problems = outcome.problems
        if !problems.isEmpty {
            await events.record(stored, type: .warning, reason: "EngineHookFailed", message: problems.joined(separator: "; "))
        }
        let refusals = desired.scaleIns.compactMapValues { if case .refused(let reason) = $0.step { reason } else { nil } }
        let refusedBefore =
            Conditions.find(stored.status?.conditions, type: ClusterStatus.ConditionType.scaleIn.rawValue)?.reason
            == ClusterStatusCalculator.scaleInRefused
        if !refusals.isEmpty, !refusedBefore {
            await events.record(
                stored, type: .warning, reason: ClusterStatusCalculator.scaleInRefused,
                message: refusals.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; "))
        }
        return outcome
    }

    /// The status from the workloads and pods as cached now, written only when it changed.
    func publishStatus(
        of stored: Cluster, cluster: Cluster, desired: DesiredState, names: ClusterNames, applyProblem: String?
    ) async throws {
        let components = await observeComponents(cluster, definition: desired.input.definition, names: names)
        let status = ClusterStatusCalculator.status(
            for: stored, components: components,
            outcome: .init(applyProblem: applyProblem, scaleIn: desired.scaleIns.mapValues(\.step)), now: .now())
        if status.phase == .running, stored.status?.phase != .running {
            await events.record(stored, type: .normal, reason: "ClusterReady", message: "every component of the cluster is running")
        }
        try await statusWriter.publish(status, of: stored)
    }

    /// When to look again at a Cluster whose objects were applied: what progresses without a Kubernetes event.
    static func nextLook(recreating: Bool, scaleIns: [String: ScaleInStep], engineProblems: Bool) -> ReconcileResult {
        // The old StatefulSet goes once the garbage collector has orphaned its pods; then it is made anew.
        if recreating { return .requeue(after: .milliseconds(500)) }
        // Shard transfers progress inside the engine.
        if scaleIns.values.contains(where: { if case .waiting = $0 { true } else { false } }) { return .requeue(after: .seconds(2)) }
        // A refusal may lift as the engine's data moves (a collection dropped, replicas added).
        if scaleIns.values.contains(where: { if case .refused = $0 { true } else { false } }) { return .requeue(after: .seconds(30)) }
        return engineProblems ? .requeue(after: .seconds(10)) : .done
    }

    /// A failover waiting out its delay, or a promotion under way, is looked at again without a Kubernetes event.
    static func sooner(_ next: ReconcileResult, failover: Duration?) -> ReconcileResult {
        guard let failover else { return next }
        if let after = next.requeueAfter, after <= failover { return next }
        return .requeue(after: failover)
    }

    var statusWriter: ClusterStatusWriter { ClusterStatusWriter(client: client, writes: statusWrites) }

    /// The Cluster cannot be provisioned yet: a condition and an Event say why. The Event only when the reason is
    /// new, so retries of the same problem write nothing.
    private func failPreCheck(_ cluster: Cluster, message: String) async throws {
        let condition = Conditions.find(cluster.status?.conditions, type: ClusterStatus.ConditionType.provisioningStarted.rawValue)
        if condition?.message != message {
            await events.record(cluster, type: .warning, reason: "PreCheckFailed", message: message)
        }
        try await statusWriter.publish(
            ClusterStatusCalculator.status(for: cluster, components: [], outcome: .init(preCheckProblem: message), now: .now()),
            of: cluster)
    }

    struct PreCheckFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    struct ApplyFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// The definition, version, credential and templates a Cluster's objects are made from, or why the Cluster
    /// cannot be provisioned, in words that say what to fix.
    func buildInput(for cluster: Cluster, names: ClusterNames) async throws -> ClusterBuildInput {
        let definitionName = cluster.spec.clusterDefinitionRef
        guard let definition = await caches.definitions.cache.get(name: definitionName) else {
            let installed = await caches.definitions.cache.list().compactMap(\.metadata?.name)
            throw PreCheckFailure(
                message: "spec.clusterDefinitionRef: ClusterDefinition \"\(definitionName)\" not found; "
                    + (installed.isEmpty ? "install an addon (kubectl apply -f deploy/addons/qdrant.yaml)" : "installed: \(installed.joined(separator: ", "))"))
        }
        if definition.status?.phase == .unavailable {
            throw PreCheckFailure(
                message: "spec.clusterDefinitionRef: ClusterDefinition \"\(definitionName)\" is Unavailable: \(definition.status?.message ?? "see its status")")
        }
        let version = try await resolveVersion(of: cluster, definition: definitionName)
        let problems = cluster.validate(definition: definition, version: version)
        guard problems.isEmpty else {
            throw PreCheckFailure(message: problems.map(\.description).joined(separator: "; "))
        }

        let credential = ConnectionCredential.values(
            cluster: cluster, definition: definition, names: names, existing: await caches.credential(of: names),
            generator: generator)

        var templates: [String: CoreV1.ConfigMap] = [:]
        let used = Set(cluster.spec.componentSpecs.map(\.componentDefRef))
        for componentDef in definition.spec.componentDefs where used.contains(componentDef.name) {
            for spec in (componentDef.configSpecs ?? []) + (componentDef.scriptSpecs ?? []) {
                let key = ClusterBuildInput.templateKey(spec)
                // A missing one is left out: the builder names it.
                guard templates[key] == nil, let template = try await caches.templates.get(spec) else { continue }
                templates[key] = template
            }
        }
        var input = ClusterBuildInput(
            cluster: cluster, definition: definition, version: version, credential: credential, templates: templates)
        input.backupImage = backupImage
        return input
    }

    func resolveVersion(of cluster: Cluster, definition: String) async throws -> ClusterVersion {
        if let reference = cluster.spec.clusterVersionRef, !reference.isEmpty {
            guard let version = await caches.versions.cache.get(name: reference) else {
                throw PreCheckFailure(
                    message: "spec.clusterVersionRef: ClusterVersion \"\(reference)\" not found; "
                        + "available for \(definition): \(await versionNames(of: definition))")
            }
            if version.status?.phase == .unavailable {
                throw PreCheckFailure(
                    message: "spec.clusterVersionRef: ClusterVersion \"\(reference)\" is Unavailable: \(version.status?.message ?? "see its status")")
            }
            return version
        }
        let defaults = await caches.versions.cache.list().filter { $0.spec.clusterDefinitionRef == definition && $0.isDefault }
        guard defaults.count == 1, let version = defaults.first else {
            let reason =
                defaults.isEmpty
                ? "no ClusterVersion of \"\(definition)\" is marked default" : "several ClusterVersions of \"\(definition)\" are marked default"
            throw PreCheckFailure(message: "spec.clusterVersionRef: \(reason); set clusterVersionRef to one of: \(await versionNames(of: definition))")
        }
        return version
    }

    private func versionNames(of definition: String) async -> String {
        let names = await caches.versions.cache.list().filter { $0.spec.clusterDefinitionRef == definition }.compactMap(\.metadata?.name)
        return names.isEmpty ? "none installed" : names.joined(separator: ", ")
    }

    func observeComponents(_ cluster: Cluster, definition: ClusterDefinition, names: ClusterNames) async -> [ComponentObservation] {
        var observations: [ComponentObservation] = []
        for component in cluster.spec.componentSpecs {
            let stateless = definition.componentDef(named: component.componentDefRef)?.workloadType == .stateless
            let workloadName = names.workload(component.name)
            let workload: WorkloadState?
            if stateless {
                workload = await caches.deployments.get(name: workloadName, namespace: names.namespace).map(WorkloadState.init)
            } else {
                workload = await caches.statefulSets.get(name: workloadName, namespace: names.namespace).map(WorkloadState.init)
            }
            let pods = await caches.pods.list(
                namespace: names.namespace, selector: LabelSelector(matching: names.componentSelector(component.name)))
            observations.append(
                ComponentObservation(
                    name: component.name, desiredReplicas: component.replicas ?? 1, workload: workload, pods: pods))
        }
        return observations
    }

    private func addFinalizer(to cluster: Cluster) async throws {
        guard let name = cluster.metadata?.name, let resourceVersion = cluster.metadata?.resourceVersion else { return }
        let finalizers = (cluster.metadata?.finalizers ?? []) + [ClusterNames.finalizer]
        // The resourceVersion makes the merge patch conditional: another writer's finalizer is never dropped.
        _ = try await client.patch(
            Cluster.self, name: name, namespace: cluster.metadata?.namespace,
            patch: .merge(["metadata": ["finalizers": .array(finalizers.map(JSONValue.string)), "resourceVersion": .string(resourceVersion)]]))
    }

    static func isControlled(_ object: JSONValue, by cluster: Cluster) -> Bool {
        guard let uid = cluster.metadata?.uid, case .array(let references)? = object["metadata"]?["ownerReferences"] else { return false }
        return references.contains { $0["uid"]?.stringValue == uid && $0["controller"] == .bool(true) }
    }

    /// The Clusters to reconcile when a definition changes: those made from it.
    public static func clusters(
        usingDefinition name: String, in clusters: NamespacedInformers<Cluster>
    ) async -> [ObjectKey] {
        var keys: [ObjectKey] = []
        for informer in clusters.informers {
            keys += await informer.cache.list().filter { $0.spec.clusterDefinitionRef == name }.compactMap { ObjectKey($0) }
        }
        return keys
    }
}
