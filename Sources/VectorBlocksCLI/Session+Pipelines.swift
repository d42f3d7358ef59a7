import Foundation
import KubeKit
import VectorBlocksAPI

/// What `kbctl pipeline create` makes a VectorPipeline from: its flags, checked as the operator checks a spec.
public struct PipelineCreation: Sendable {
    public var name: String
    public var namespace: String
    /// `NAME` or `NAME:KEY` (key `uri` by default): the Secret with the source's connection URI.
    public var sourceSecret: String
    public var table: String
    public var primaryKey: [String]
    public var textTemplate: String
    public var payloadColumns: [String] = []
    public var backfill = true
    public var embedder = "hash"
    public var dimension: Int32 = 384
    public var model: String?
    public var openaiURL: String?
    /// `NAME:KEY` of the OpenAI-compatible endpoint's API key.
    public var openaiAPIKeySecret: String?
    public var qdrantCluster: String?
    public var qdrantCollection: String?
    public var pgvectorCluster: String?
    public var pgvectorTable: String?
    public var minReplicas: Int32?
    public var maxReplicas: Int32?
    public var targetBacklogPerReplica: Int32?
    /// `spec.verify.interval`: a Go duration such as `6h`.
    public var verifyInterval: String?

    public init(name: String, namespace: String, sourceSecret: String, table: String, primaryKey: [String], textTemplate: String) {
        self.name = name
        self.namespace = namespace
        self.sourceSecret = sourceSecret
        self.table = table
        self.primaryKey = primaryKey
        self.textTemplate = textTemplate
    }

    static func secretKeyRef(_ text: String, defaultKey: String, flag: String) throws -> SecretKeyRef {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let name = parts.first, !name.isEmpty else { throw CLIError("\(flag) \"\(text)\" names no Secret; write NAME or NAME:KEY") }
        return SecretKeyRef(name: name, key: parts.count == 2 ? parts[1] : defaultKey)
    }

    /// The VectorPipeline, or the problems the operator would report, each with its flag's field and fix.
    public func pipeline() throws -> VectorPipeline {
        guard let embedderKind = VectorPipelineSpec.Embedder.Kind(rawValue: embedder) else {
            throw CLIError("--embedder \"\(embedder)\" is not one of: \(VectorPipelineSpec.Embedder.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var sinks: [VectorPipelineSpec.Sink] = []
        if let qdrantCluster {
            sinks.append(.init(name: "qdrant", kind: .qdrant, clusterRef: .init(name: qdrantCluster), collection: qdrantCollection ?? name))
        }
        if let pgvectorCluster {
            sinks.append(
                .init(
                    name: "pgvector", kind: .pgvector, clusterRef: .init(name: pgvectorCluster),
                    collection: pgvectorTable ?? "public.\(name.replacingOccurrences(of: "-", with: "_"))_vectors"))
        }
        guard !sinks.isEmpty else { throw CLIError("no sink: add --qdrant-cluster NAME and/or --pgvector-cluster NAME") }
        let openai =
            embedderKind == .openai
            ? VectorPipelineSpec.Embedder.OpenAI(
                baseURL: openaiURL ?? "https://api.openai.com/v1",
                apiKeySecretRef: try openaiAPIKeySecret.map { try Self.secretKeyRef($0, defaultKey: "api-key", flag: "--openai-api-key-secret") })
            : nil
        let pipeline = VectorPipeline(
            metadata: MetaV1.ObjectMeta(name: name, namespace: namespace),
            spec: VectorPipelineSpec(
                source: .init(
                    connectionSecretRef: try Self.secretKeyRef(sourceSecret, defaultKey: "uri", flag: "--source-secret"), table: table,
                    primaryKey: primaryKey, textTemplate: textTemplate, payloadColumns: payloadColumns.isEmpty ? nil : payloadColumns,
                    backfill: backfill),
                embedder: .init(kind: embedderKind, model: model, dimension: dimension, openai: openai),
                sinks: sinks,
                scaling: .init(minReplicas: minReplicas, maxReplicas: maxReplicas, targetBacklogPerReplica: targetBacklogPerReplica),
                verify: verifyInterval.map { .init(interval: $0) }))
        let problems = pipeline.validate()
        guard problems.isEmpty else {
            throw CLIError("the pipeline would be refused: " + problems.map { Self.flagWording($0) }.joined(separator: "; "))
        }
        return pipeline
    }

    /// A problem in the words of the flag that set the field.
    static func flagWording(_ problem: FieldError) -> String {
        let flags = [
            "spec.source.textTemplate": "--text-template", "spec.source.primaryKey": "--primary-key", "spec.source.table": "--table",
            "spec.source.payloadColumns": "--payload-column", "spec.embedder.model": "--model", "spec.embedder.dimension": "--dimension",
            "spec.scaling.minReplicas": "--min-replicas", "spec.verify.interval": "--verify-interval",
        ]
        let flag = flags.first { problem.field.hasPrefix($0.key) }?.value
        return (flag.map { "\($0) (\(problem.field))" } ?? problem.field) + ": \(problem.message) (\(problem.fix))"
    }
}

extension Session {
    public func createPipeline(_ creation: PipelineCreation) async throws -> VectorPipeline {
        let pipeline = try creation.pipeline()
        return try await call(VectorPipeline.descriptor, verb: "create") { try await client.create(pipeline) }
    }

    public func getPipeline(_ name: String) async throws -> VectorPipeline {
        do {
            return try await client.get(VectorPipeline.self, name: name, namespace: namespace)
        } catch let error as KubeAPIError where error.isNotFound && error.message.contains("\"\(name)\"") {
            throw CLIError("pipeline \"\(name)\" not found in namespace \"\(namespace)\"; see kbctl pipeline list")
        } catch {
            throw CLIError.from(error, resource: VectorPipeline.descriptor)
        }
    }

    /// What `kbctl pipeline create` prints.
    public func printCreated(_ pipeline: VectorPipeline) async throws -> String {
        try await printer(.pipelineCreate).print([PrintedObject(pipeline)], single: true) { _ in
            let name = pipeline.metadata?.name ?? ""
            return "Pipeline \(name) created; follow it with kbctl pipeline describe \(name)\n"
        }
    }

    /// `kbctl pipeline delete`: what it printed.
    @discardableResult
    public func deletePipeline(_ name: String) async throws -> String {
        let printer = try printer(.pipelineDelete)
        _ = try await getPipeline(name)
        _ = try await call(VectorPipeline.descriptor, verb: "delete") {
            try await client.delete(VectorPipeline.self, name: name, namespace: namespace)
        }
        return printer.print(names: [(VectorPipeline.descriptor, name)], verb: "deleted")
    }

    /// `kbctl pipeline list`: NAME, NAMESPACE, SOURCE, SINKS, PHASE, BACKLOG, LAG, CREATED-TIME.
    public func listPipelines(allNamespaces: Bool = false) async throws -> String {
        let printer = try printer(.pipelineList)
        let pipelines = try await call(VectorPipeline.descriptor, verb: "list") {
            try await client.listAll(VectorPipeline.self, namespace: allNamespaces ? nil : namespace).items
        }
        return try await printer.print(try pipelines.map(PrintedObject.init), single: false) { wide in
            pipelinesTable(pipelines, wide: wide, allNamespaces: allNamespaces)
        }
    }

    func pipelinesTable(_ pipelines: [VectorPipeline], wide: Bool, allNamespaces: Bool) -> String {
        if pipelines.isEmpty { return "No pipelines found in \(allNamespaces ? "any namespace" : "namespace \(namespace)").\n" }
        var headers = ["NAME", "NAMESPACE", "SOURCE", "SINKS", "PHASE", "BACKLOG", "LAG", "CREATED-TIME"]
        if wide { headers += ["EMU-REPLICAS", "DEAD-LETTERS"] }
        let rows = pipelines.map { pipeline in
            var row = [
                pipeline.metadata?.name ?? "", pipeline.metadata?.namespace ?? "", pipeline.spec.source.table,
                pipeline.spec.sinks.map(\.name).joined(separator: ","), pipeline.status?.phase?.rawValue ?? "",
                pipeline.status?.backlog.map(String.init) ?? "", pipeline.status?.lagSeconds.map { "\($0)s" } ?? "",
                Self.timestamp(pipeline.metadata?.creationTimestamp),
            ]
            if wide {
                row += [pipeline.status?.emuReplicas.map(String.init) ?? "", pipeline.status?.deadLetters.map(String.init) ?? ""]
            }
            return row
        }
        return Table(headers: headers, rows: rows).render(width: width)
    }

    /// `kbctl pipeline describe`: source and backfill, backlog and lag, dead letters with the last error, each sink's
    /// state, the conditions and recent events.
    public func describePipeline(_ name: String) async throws -> String {
        let printer = try printer(.pipelineDescribe)
        let pipeline = try await getPipeline(name)
        return try await printer.print([PrintedObject(pipeline)], single: true) { _ in try await description(of: pipeline) }
    }

    func description(of pipeline: VectorPipeline) async throws -> String {
        let name = pipeline.metadata?.name ?? ""
        let status = pipeline.status
        var text = "Name: \(name)\t Created Time: \(Self.timestamp(pipeline.metadata?.creationTimestamp))\n"
        text += Table(
            headers: ["NAMESPACE", "SOURCE", "PRIMARY-KEY", "PHASE", "STATE-IN-SOURCE"],
            rows: [
                [
                    namespace, pipeline.spec.source.table, pipeline.spec.source.primaryKey.joined(separator: ","),
                    status?.phase?.rawValue ?? "", status?.sourceStateName ?? "",
                ]
            ]
        ).render(width: width)
        let backfill = status?.backfill
        text += "\nProgress:\n"
        text += Table(
            headers: ["BACKFILL", "BACKLOG", "LAG", "EMU-REPLICAS", "DEAD-LETTERS"],
            rows: [
                [
                    backfill.map { "\($0.rowsDone ?? 0)/\($0.rowsTotal ?? 0)\($0.complete == true ? " (complete)" : "")" } ?? "-",
                    status?.backlog.map(String.init) ?? "-", status?.lagSeconds.map { "\($0)s" } ?? "-",
                    status?.emuReplicas.map(String.init) ?? "-", status?.deadLetters.map(String.init) ?? "-",
                ]
            ]
        ).render(width: width)
        if let error = status?.lastDeadLetterError {
            text +=
                "Last dead letter: \(error)\n(all of them: SELECT body, last_error FROM vectorsync.dead_letters WHERE queue = '\(status?.sourceStateName ?? "")')\n"
        }
        text += Self.sinksSection(pipeline, width: width)
        text += Self.verifySection(pipeline, width: width)
        text += "\nConditions:\n"
        text += Table(
            headers: ["TYPE", "STATUS", "REASON", "MESSAGE"],
            rows: (status?.conditions ?? []).map {
                [$0.type, $0.status, $0.reason, $0.message]
            }
        ).render(width: width)
        let related =
            [RelatedObject(kind: VectorPipeline.descriptor.kind, metadata: pipeline.metadata)]
            + (try await labelled(
                "\(VectorBlocksAPI.group)/pipeline=\(name)",
                kinds: [
                    AppsV1.Deployment.descriptor, CoreV1.Pod.descriptor, CoreV1.Service.descriptor, CoreV1.ConfigMap.descriptor,
                    CoreV1.ServiceAccount.descriptor,
                ]))
        let events = try await events(about: related, limit: 10)
        text += "\nEvents(last \(events.count)):\n"
        text +=
            events.isEmpty
            ? "No events found.\n" : Table(headers: ["TIME", "TYPE", "REASON", "OBJECT", "MESSAGE"], rows: events.map(Self.eventRow)).render(width: width)
        return text
    }

    /// Each sink: where it writes, what removing it does to its data (ON-REMOVAL), its readiness and own backfill;
    /// then the sinks removed from the spec and what became of their data.
    static func sinksSection(_ pipeline: VectorPipeline, width: Int?) -> String {
        var text = ""
        text += "\nSinks:\n"
        text += Table(
            headers: ["NAME", "KIND", "TARGET", "COLLECTION", "ON-REMOVAL", "READY", "OWN-BACKFILL", "RECALL@10", "LAST-ERROR"],
            rows: pipeline.spec.sinks.map { sink in
                let state = pipeline.status?.sinks?.first { $0.name == sink.name }
                let target = sink.clusterRef.map { "cluster/\($0.name)" } ?? sink.endpoint?.url ?? ""
                // A sink added to the running pipeline: its own backfill, and how it compares with another sink.
                let backfill = state?.backfill.map { "\($0.rowsDone ?? 0)/\($0.rowsTotal ?? 0)\($0.complete == true ? " (complete)" : "")" } ?? "-"
                let recall = state?.comparison.map { "\($0.recallAt10) vs \($0.against)" } ?? "-"
                return [
                    sink.name, sink.kind.rawValue, target, sink.collection, (sink.deletionPolicy ?? .retain).rawValue,
                    state?.ready.map { $0 ? "true" : "false" } ?? "-", backfill, recall, state?.lastError ?? "",
                ]
            }
        ).render(width: width)
        if let removed = pipeline.status?.removedSinks, !removed.isEmpty {
            text += "\nRemoved sinks:\n"
            text += Table(
                headers: ["NAME", "KIND", "TARGET", "COLLECTION", "ON-REMOVAL", "STATE", "MESSAGE"],
                rows: removed.map { entry in
                    let target = entry.target.clusterRef.map { "cluster/\($0.name)" } ?? entry.target.endpoint?.url ?? ""
                    return [
                        entry.name, entry.target.kind.rawValue, target, entry.target.collection, entry.deletionPolicy.rawValue, entry.state.rawValue,
                        entry.message ?? "",
                    ]
                }
            ).render(width: width)
        }
        return text
    }

    /// The drift repair: how often each sink is verified against the source, and what the last verify found.
    static func verifySection(_ pipeline: VectorPipeline, width: Int?) -> String {
        let interval = pipeline.spec.verify?.interval
        let every = (pipeline.spec.verify?.intervalSeconds ?? 0) > 0 ? "every \(interval ?? "")" : "off (set spec.verify.interval)"
        var text = "\nVerify: \(every), last at \(pipeline.status?.lastVerifyTime.map(\.rfc3339) ?? "-")\n"
        text += Table(
            headers: ["SINK", "ROWS", "SOURCE-ROWS", "MISSING", "STALE", "ORPHANED", "REQUEUED", "VERIFIED"],
            rows: pipeline.spec.sinks.map { sink in
                let state = pipeline.status?.sinks?.first { $0.name == sink.name }
                let verify = state?.verify
                return [sink.name, state?.rows.map(String.init) ?? "-"]
                    + [verify?.sourceRows, verify?.missing, verify?.stale, verify?.orphaned, verify?.requeued].map { $0.map(String.init) ?? "-" }
                    + [verify?.time.map(\.rfc3339) ?? "-"]
            }
        ).render(width: width)
        return text
    }
}
