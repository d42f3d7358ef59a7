import KubeKit
import VectorBlocksAPI

/// What the operator sees of a Cluster that a sink names through `clusterRef`.
public struct SinkClusterObservation: Sendable, Hashable {
    public var phase: ClusterPhase?
    /// The Cluster's ClusterDefinition `type`: `qdrant` or `postgresql`.
    public var definitionType: String?
    /// The keys of its `<name>-conn-credential` Secret; nil while that Secret does not exist.
    public var credentialKeys: Set<String>?
    /// A digest of that Secret's values (never the values): when the Cluster moves or its credential changes, Emu's
    /// pods roll, since a `secretKeyRef` is read only when a container starts.
    public var credentialDigest: String?

    public init(phase: ClusterPhase? = nil, definitionType: String? = nil, credentialKeys: Set<String>? = nil, credentialDigest: String? = nil) {
        self.phase = phase
        self.definitionType = definitionType
        self.credentialKeys = credentialKeys
        self.credentialDigest = credentialDigest
    }
}

/// Why a sink cannot be written yet; it resolves by itself (a Cluster created or becoming Running).
public struct SinkWait: Sendable, Hashable {
    public var sink: String
    public var reason: String
    /// Names the field and what is awaited.
    public var message: String
}

/// How Emu reaches its sinks: environment (credentials only through `secretKeyRef`, never as values) and flags, for
/// the sinks that can be written now.
/// Emu writes one Qdrant collection and any number of pgvector tables of one database, with one metric, so a spec
/// asking for more is refused, naming the sink.
public struct PipelineSinkWiring: Sendable, Hashable {
    public var env: [CoreV1.EnvVar] = []
    public var args: [String] = []
    /// The digests of the Cluster credentials Emu reads, by sink name.
    public var credentialDigests: [String: String] = [:]
    public var waits: [SinkWait] = []
    public var problems: [FieldError] = []
    /// The sinks Emu writes now: every sink but those that wait.
    public var wired: [String] = []

    /// The credential key each sink kind reads from a Cluster's `<name>-conn-credential`.
    static let requiredCredentialKeys: [VectorPipelineSpec.Sink.Kind: [String]] = [
        .qdrant: ["endpoint", "apiKey"],
        .pgvector: ["username", "password", "host", "port"],
    ]

    static let definitionTypes: [VectorPipelineSpec.Sink.Kind: String] = [.qdrant: "qdrant", .pgvector: "postgresql"]

    /// The database a pgvector cluster sink writes to: the addon's own.
    static let pgvectorDatabase = "postgres"

    public static func wire(
        _ sinks: [VectorPipelineSpec.Sink], namespace: String, clusters: [String: SinkClusterObservation]
    ) -> PipelineSinkWiring {
        var wiring = PipelineSinkWiring()
        let path = FieldPath("spec").child("sinks")
        var qdrantSink: Int?
        var pgvectorDatabase: (index: Int, identity: String)?
        let metrics = Set(sinks.map { $0.metric ?? .cosine })
        if metrics.count > 1 {
            wiring.problems.append(
                FieldError(
                    field: path.description, message: "Invalid value: the sinks use the metrics \(metrics.map(\.rawValue).sorted().joined(separator: ", "))",
                    fix: "give every sink of a pipeline the same metric (Emu embeds once for all of them), or make a pipeline per metric"))
        }
        for (index, sink) in sinks.enumerated() {
            let field = path.index(index)
            switch sink.kind {
            case .qdrant:
                if let first = qdrantSink {
                    wiring.problems.append(
                        FieldError(
                            field: field.description, message: "Invalid value: a second Qdrant sink (sinks[\(first)] is one)",
                            fix: "Emu writes one Qdrant collection per pipeline: make a second pipeline for this one"))
                    continue
                }
                qdrantSink = index
            case .pgvector:
                let identity =
                    sink.clusterRef.map { "cluster:\($0.namespace ?? namespace)/\($0.name)" }
                    ?? "endpoint:\(sink.endpoint?.url ?? "")|\(sink.endpoint?.credentialsSecretRef.map { "\($0.name)/\($0.key)" } ?? "")"
                if let first = pgvectorDatabase, first.identity != identity {
                    wiring.problems.append(
                        FieldError(
                            field: field.description, message: "Invalid value: a pgvector sink in another database than sinks[\(first.index)]'s",
                            fix: "Emu writes the pgvector tables of one database per pipeline: use that database, or make a second pipeline"))
                    continue
                }
                if let first = pgvectorDatabase {
                    // Another table of the database already wired (or waited for): it shares its fate.
                    if let wait = wiring.waits.first(where: { $0.sink == sinks[first.index].name }) {
                        wiring.waits.append(SinkWait(sink: sink.name, reason: wait.reason, message: wait.message))
                    } else {
                        wiring.args += ["--pgvector-table", sink.collection]
                        wiring.wired.append(sink.name)
                    }
                    continue
                }
                pgvectorDatabase = (index, identity)
            }
            if let reference = sink.clusterRef {
                wiring.wireCluster(sink, reference: reference, field: field, namespace: namespace, observation: clusters[sink.name])
            } else if let endpoint = sink.endpoint {
                wiring.wireEndpoint(sink, endpoint: endpoint)
            }
            // A sink that waits is left out of Emu, which writes the others meanwhile; it joins (and backfills alone)
            // once it can be written.
            guard !wiring.waits.contains(where: { $0.sink == sink.name }) else { continue }
            wiring.wired.append(sink.name)
            switch sink.kind {
            case .qdrant: wiring.env.append(CoreV1.EnvVar(name: "VECTORSYNC_QDRANT_COLLECTION", value: sink.collection))
            case .pgvector: wiring.args += ["--pgvector-table", sink.collection]
            }
        }
        if let metric = metrics.first {
            wiring.args += ["--metric", metric.rawValue]
        }
        return wiring
    }

    private mutating func wireCluster(
        _ sink: VectorPipelineSpec.Sink, reference: VectorPipelineSpec.Sink.ClusterRef, field: FieldPath, namespace: String,
        observation: SinkClusterObservation?
    ) {
        let referenceField = field.child("clusterRef")
        if let other = reference.namespace, other != namespace {
            problems.append(
                FieldError(
                    field: referenceField.child("namespace").description,
                    message: "Invalid value: \"\(other)\": the pipeline's pods can read only Secrets of their own namespace \"\(namespace)\"",
                    fix: "create the pipeline in \"\(other)\", or leave clusterRef.namespace unset for a Cluster of this namespace"))
            return
        }
        guard let observation else {
            waits.append(
                SinkWait(
                    sink: sink.name, reason: "ClusterNotFound",
                    message: "\(referenceField.child("name")): Cluster \"\(reference.name)\" not found in \"\(namespace)\"; the pipeline waits for it"))
            return
        }
        if let type = observation.definitionType, let wanted = Self.definitionTypes[sink.kind], type != wanted {
            problems.append(
                FieldError(
                    field: referenceField.child("name").description,
                    message: "Invalid value: \"\(reference.name)\" is a \(type) Cluster, not a \(wanted) one",
                    fix: "name a \(wanted) Cluster, or set the sink's kind to match"))
            return
        }
        let credential = ClusterNames(cluster: reference.name, namespace: namespace).credentialSecret
        let missing = (Self.requiredCredentialKeys[sink.kind] ?? []).filter { observation.credentialKeys?.contains($0) != true }
        guard observation.phase == .running, missing.isEmpty else {
            let what =
                observation.credentialKeys == nil
                ? "its Secret \"\(credential)\" does not exist yet"
                : missing.isEmpty
                    ? "it is \(observation.phase?.rawValue ?? "not Running yet")" : "its Secret \"\(credential)\" lacks \(missing.joined(separator: ", "))"
            waits.append(
                SinkWait(
                    sink: sink.name, reason: "ClusterNotReady",
                    message:
                        "\(referenceField.child("name")): Cluster \"\(reference.name)\" is not ready to write to: \(what); the pipeline waits until it is Running"
                ))
            return
        }
        credentialDigests[sink.name] = observation.credentialDigest
        func fromCredential(_ name: String, _ key: String) -> CoreV1.EnvVar {
            CoreV1.EnvVar(name: name, valueFrom: CoreV1.EnvVarSource(secretKeyRef: CoreV1.SecretKeySelector(key: key, name: credential)))
        }
        switch sink.kind {
        case .qdrant:
            env += [fromCredential("VECTORSYNC_QDRANT_URL", "endpoint"), fromCredential("QDRANT_API_KEY", "apiKey")]
        case .pgvector:
            // The kubelet expands $(NAME) from the variables before it; the password never appears in the spec.
            env += [
                fromCredential("VB_PGVECTOR_USER", "username"), fromCredential("VB_PGVECTOR_PASSWORD", "password"),
                fromCredential("VB_PGVECTOR_HOST", "host"), fromCredential("VB_PGVECTOR_PORT", "port"),
                CoreV1.EnvVar(
                    name: "VECTORSYNC_PGVECTOR_URL",
                    value: "postgres://$(VB_PGVECTOR_USER):$(VB_PGVECTOR_PASSWORD)@$(VB_PGVECTOR_HOST):$(VB_PGVECTOR_PORT)/\(Self.pgvectorDatabase)"),
            ]
        }
    }

    private mutating func wireEndpoint(_ sink: VectorPipelineSpec.Sink, endpoint: VectorPipelineSpec.Sink.Endpoint) {
        let secret = endpoint.credentialsSecretRef.map {
            CoreV1.EnvVarSource(secretKeyRef: CoreV1.SecretKeySelector(key: $0.key, name: $0.name))
        }
        switch sink.kind {
        case .qdrant:
            env.append(CoreV1.EnvVar(name: "VECTORSYNC_QDRANT_URL", value: endpoint.url))
            if let secret { env.append(CoreV1.EnvVar(name: "QDRANT_API_KEY", valueFrom: secret)) }
        case .pgvector:
            // The Secret holds the whole URI with its password; without one the URL carries no password.
            env.append(
                secret.map { CoreV1.EnvVar(name: "VECTORSYNC_PGVECTOR_URL", valueFrom: $0) }
                    ?? CoreV1.EnvVar(name: "VECTORSYNC_PGVECTOR_URL", value: endpoint.url))
        }
    }
}
