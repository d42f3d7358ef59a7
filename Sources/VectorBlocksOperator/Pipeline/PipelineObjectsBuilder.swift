import KubeKit
import VectorBlocksAPI

/// What the objects of a VectorPipeline are made from: the pipeline (with its defaults), the images, what the
/// operator sees of the Clusters its sinks name, and Emu's replicas as the scaler decided them.
public struct PipelineBuildInput: Sendable {
    public var pipeline: VectorPipeline
    public var images: PipelineImages
    /// By sink name; a sink whose Cluster does not exist has no entry.
    public var sinkClusters: [String: SinkClusterObservation]
    /// Emu's replicas as `BacklogScaler` decided them; ignored in CPU mode, where the HPA sets them.
    public var emuReplicas: Int32

    public init(pipeline: VectorPipeline, images: PipelineImages, sinkClusters: [String: SinkClusterObservation], emuReplicas: Int32) {
        self.pipeline = pipeline
        self.images = images
        self.sinkClusters = sinkClusters
        self.emuReplicas = emuReplicas
    }
}

/// The objects of a pipeline, and what keeps Emu from running yet.
public struct PipelinePlan: Sendable {
    public var objects: [DesiredObject]
    /// Sinks not ready to be written (a Cluster missing or not Running). Emu writes the others meanwhile (none: Emu is
    /// left out, while Pelican already captures; nothing is lost, the queue keeps the changes); a sink that joins
    /// later gets its own backfill.
    public var sinkWaits: [SinkWait]
}

/// A spec the operator cannot run, each problem naming its field and fix.
public struct PipelineBuildError: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [FieldError]
    public var description: String { problems.map(\.description).joined(separator: "; ") }
}

/// The objects the operator makes of a VectorPipeline, as a pure function of `PipelineBuildInput`: a ServiceAccount
/// (no API token: the workers talk to databases, not to Kubernetes), the settings ConfigMap both workers read as
/// environment, the Pelican Deployment (2 replicas: one active, one standing by), the Emu Deployment and the metrics
/// Service. Credentials reach the pods only through `secretKeyRef`.
///
/// One Pelican is active through the pipeline's advisory lock in the source database, not through a Kubernetes
/// Lease: the lock lives on the connection that does the capture's writes, so the database itself fences a Pelican
/// that lost it (its connection, and with it every write, is gone), where a Lease cannot stop the writes of a
/// partitioned holder that has not noticed yet. The standby replica tries the lock every second.
public enum PipelineObjectsBuilder {
    public static let pelicanReplicas: Int32 = 2
    /// On Emu's pod template: the digests of the sink Clusters' credentials it was started with.
    public static let sinkCredentialsAnnotation = "\(VectorBlocksAPI.group)/sink-credentials"

    public static func plan(_ input: PipelineBuildInput) throws(PipelineBuildError) -> PipelinePlan {
        let pipeline = input.pipeline
        guard let name = pipeline.metadata?.name, let namespace = pipeline.metadata?.namespace, let uid = pipeline.metadata?.uid else {
            throw PipelineBuildError(problems: [
                FieldError(
                    field: "metadata", message: "Required value: the VectorPipeline has no name, namespace or uid",
                    fix: "build from a VectorPipeline read from the API server")
            ])
        }
        var problems = pipeline.validate()
        let names = PipelineNames(pipeline: name, namespace: namespace)
        let sinks = PipelineSinkWiring.wire(pipeline.spec.sinks, namespace: namespace, clusters: input.sinkClusters)
        problems += sinks.problems
        guard problems.isEmpty else { throw PipelineBuildError(problems: problems) }
        let owner = MetaV1.OwnerReference(
            apiVersion: VectorPipeline.descriptor.apiVersion, blockOwnerDeletion: true, controller: true,
            kind: VectorPipeline.descriptor.kind, name: name, uid: uid)
        do {
            var objects: [DesiredObject] = [
                try DesiredObject(
                    CoreV1.ServiceAccount(
                        automountServiceAccountToken: false, metadata: meta(names.serviceAccount, names, worker: nil, owner: owner))),
                try DesiredObject(
                    CoreV1.ConfigMap(
                        data: settings(pipeline, names: names), metadata: meta(names.settingsConfigMap, names, worker: nil, owner: owner))),
                try DesiredObject(
                    deployment(
                        names.pelicanDeployment, worker: "pelican", replicas: pelicanReplicas, image: input.images.pelican,
                        pullPolicy: input.images.pullPolicy, args: payloadArgs(pipeline),
                        env: sharedEnv(pipeline), names: names, owner: owner)),
                try DesiredObject(metricsService(names, owner: owner)),
            ]
            if !sinks.wired.isEmpty {
                let cpuScaled = pipeline.spec.scaling?.mode == .cpu
                var emu = deployment(
                    names.emuDeployment, worker: "emu", replicas: cpuScaled ? nil : input.emuReplicas, image: input.images.emu,
                    pullPolicy: input.images.pullPolicy, args: ["run"] + payloadArgs(pipeline) + queueArgs(pipeline) + verifyArgs(pipeline) + sinks.args,
                    env: sharedEnv(pipeline) + embedderEnv(pipeline) + sinks.env, names: names, owner: owner)
                // Every old Emu is gone before a new one starts: a sink added to the spec gets its own backfill once
                // Emu writes it, and an old Emu still taking messages would acknowledge changes without writing that
                // sink. The queue holds the changes meanwhile.
                emu.spec?.strategy = AppsV1.DeploymentStrategy(type: "Recreate")
                if !sinks.credentialDigests.isEmpty {
                    let digest = sinks.credentialDigests.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                    emu.spec?.template.metadata?.annotations = [sinkCredentialsAnnotation: digest]
                }
                objects.append(try DesiredObject(emu))
                if cpuScaled, let scaling = pipeline.spec.scaling {
                    objects.append(try DesiredObject(cpuAutoscaler(scaling, names: names, owner: owner)))
                }
            }
            return PipelinePlan(objects: objects, sinkWaits: sinks.waits)
        } catch {
            throw PipelineBuildError(problems: [FieldError(field: "spec", message: "Internal error: \(error)", fix: "report this")])
        }
    }

    /// What both workers read as environment (`VECTORSYNC_*`, see `pelican --help`): nothing secret.
    public static func settings(_ pipeline: VectorPipeline, names: PipelineNames) -> [String: String] {
        let spec = pipeline.spec
        var data = [
            "VECTORSYNC_PIPELINE": names.sourceStateName,
            "VECTORSYNC_TABLE": spec.source.table,
            "VECTORSYNC_PRIMARY_KEY": spec.source.primaryKey.joined(separator: ","),
            "VECTORSYNC_TEXT_TEMPLATE": spec.source.textTemplate,
            "VECTORSYNC_BACKFILL": (spec.source.backfill ?? true) ? "true" : "false",
            "VECTORSYNC_QUEUE": (spec.queue?.kind ?? .postgres).rawValue,
            "VECTORSYNC_EMBEDDER": spec.embedder.kind.rawValue,
            "VECTORSYNC_DIMENSION": String(spec.embedder.dimension),
            "VECTORSYNC_BATCH_SIZE": String(spec.embedder.batchSize ?? 64),
            "VECTORSYNC_VISIBILITY_TIMEOUT": String(spec.queue?.visibilityTimeoutSeconds ?? 60),
            "VECTORSYNC_HTTP_PORT": String(PipelineNames.metricsPort),
            // Recorded in the sinks Emu creates, so that a removed sink's data is dropped only by the pipeline that made it.
            "VECTORSYNC_SINK_MAKER": names.maker,
        ]
        if let sqs = spec.queue?.sqs {
            data["VECTORSYNC_SQS_QUEUE_URL"] = sqs.queueURL
            data["VECTORSYNC_SQS_DEAD_LETTER_QUEUE_URL"] = sqs.deadLetterQueueURL
            data["AWS_REGION"] = sqs.region
        }
        if spec.embedder.kind == .openai {
            data["VECTORSYNC_OPENAI_URL"] = spec.embedder.openai?.baseURL
            data["VECTORSYNC_OPENAI_MODEL"] = spec.embedder.model
        }
        return data
    }

    static func payloadArgs(_ pipeline: VectorPipeline) -> [String] {
        (pipeline.spec.source.payloadColumns ?? []).flatMap { ["--payload-column", $0] }
    }

    /// Emu verifies its sinks against the source this often (`spec.verify.interval`); no flag when off.
    static func verifyArgs(_ pipeline: VectorPipeline) -> [String] {
        guard let seconds = pipeline.spec.verify?.intervalSeconds, seconds > 0 else { return [] }
        return ["--verify-interval-seconds", String(seconds)]
    }

    /// The postgres queue's receive count is Emu's to enforce; an SQS queue's own RedrivePolicy does it.
    static func queueArgs(_ pipeline: VectorPipeline) -> [String] {
        guard (pipeline.spec.queue?.kind ?? .postgres) == .postgres else { return [] }
        return ["--max-receive-count", String(pipeline.spec.queue?.maxReceiveCount ?? 5)]
    }

    static func secretEnv(_ name: String, _ reference: SecretKeyRef) -> CoreV1.EnvVar {
        CoreV1.EnvVar(
            name: name,
            valueFrom: CoreV1.EnvVarSource(
                secretKeyRef: CoreV1.SecretKeySelector(key: reference.key, name: reference.name)))
    }

    static func sharedEnv(_ pipeline: VectorPipeline) -> [CoreV1.EnvVar] {
        var env = [secretEnv("VECTORSYNC_SOURCE_URL", pipeline.spec.source.connectionSecretRef)]
        if let secret = pipeline.spec.queue?.sqs?.credentialsSecretName {
            env += [
                secretEnv("AWS_ACCESS_KEY_ID", SecretKeyRef(name: secret, key: "AWS_ACCESS_KEY_ID")),
                secretEnv("AWS_SECRET_ACCESS_KEY", SecretKeyRef(name: secret, key: "AWS_SECRET_ACCESS_KEY")),
            ]
        }
        return env
    }

    static func embedderEnv(_ pipeline: VectorPipeline) -> [CoreV1.EnvVar] {
        guard let key = pipeline.spec.embedder.openai?.apiKeySecretRef else { return [] }
        return [secretEnv("OPENAI_API_KEY", key)]
    }

    /// Emu's CPU requests, which a utilisation target is a share of; the workers mostly wait on databases.
    static let resources = CoreV1.ResourceRequirements(requests: ["cpu": Quantity(milli: 100), "memory": Quantity(bytes: 128 << 20)])

    /// `mode: CPU`: an HPA on Emu, its cooldowns as stabilisation windows; it owns Emu's replicas.
    static func cpuAutoscaler(
        _ scaling: VectorPipelineSpec.Scaling, names: PipelineNames, owner: MetaV1.OwnerReference
    )
        -> AutoscalingV2.HorizontalPodAutoscaler
    {
        let target = AutoscalingV2.MetricTarget(averageUtilization: scaling.targetCPUUtilizationPercentage ?? 70, type: "Utilization")
        var spec = AutoscalingV2.HorizontalPodAutoscalerSpec(
            maxReplicas: scaling.maxReplicas ?? 10,
            scaleTargetRef: AutoscalingV2.CrossVersionObjectReference(apiVersion: "apps/v1", kind: "Deployment", name: names.emuDeployment))
        spec.minReplicas = max(scaling.minReplicas ?? 1, 1)
        spec.metrics = [AutoscalingV2.MetricSpec(resource: AutoscalingV2.ResourceMetricSource(name: "cpu", target: target), type: "Resource")]
        spec.behavior = AutoscalingV2.HorizontalPodAutoscalerBehavior(
            scaleDown: AutoscalingV2.HPAScalingRules(stabilizationWindowSeconds: scaling.scaleDownCooldownSeconds ?? 300),
            scaleUp: AutoscalingV2.HPAScalingRules(stabilizationWindowSeconds: scaling.scaleUpCooldownSeconds ?? 30))
        return AutoscalingV2.HorizontalPodAutoscaler(metadata: meta(names.emuDeployment, names, worker: "emu", owner: owner), spec: spec)
    }

    static func deployment(
        _ name: String, worker: String, replicas: Int32?, image: String, pullPolicy: String?, args: [String], env: [CoreV1.EnvVar],
        names: PipelineNames, owner: MetaV1.OwnerReference
    ) -> AppsV1.Deployment {
        let probe = { (path: String) in
            CoreV1.Probe(httpGet: CoreV1.HTTPGetAction(path: path, port: .string("metrics")), periodSeconds: 10)
        }
        var container = CoreV1.Container(name: worker)
        container.image = image
        container.imagePullPolicy = pullPolicy
        container.args = args.isEmpty ? nil : args
        container.env = env
        container.envFrom = [CoreV1.EnvFromSource(configMapRef: CoreV1.ConfigMapEnvSource(name: names.settingsConfigMap))]
        container.ports = [CoreV1.ContainerPort(containerPort: PipelineNames.metricsPort, name: "metrics", protocol: "TCP")]
        container.livenessProbe = probe("/healthz")
        container.resources = resources
        container.securityContext = CoreV1.SecurityContext(
            allowPrivilegeEscalation: false, capabilities: CoreV1.Capabilities(drop: ["ALL"]), readOnlyRootFilesystem: true,
            runAsNonRoot: true)
        var podSpec = CoreV1.PodSpec(containers: [container])
        podSpec.serviceAccountName = names.serviceAccount
        podSpec.automountServiceAccountToken = false
        // Emu hands back its batch on SIGTERM; Pelican releases the lock: both are quick.
        podSpec.terminationGracePeriodSeconds = 30
        let labels = names.labels(worker: worker)
        let template = CoreV1.PodTemplateSpec(metadata: MetaV1.ObjectMeta(labels: labels), spec: podSpec)
        var spec = AppsV1.DeploymentSpec(selector: MetaV1.LabelSelector(matchLabels: names.workerSelector(worker)), template: template)
        spec.replicas = replicas
        return AppsV1.Deployment(metadata: meta(name, names, worker: worker, owner: owner), spec: spec)
    }

    static func metricsService(_ names: PipelineNames, owner: MetaV1.OwnerReference) -> CoreV1.Service {
        var spec = CoreV1.ServiceSpec()
        spec.type = "ClusterIP"
        spec.selector = names.selector
        spec.ports = [CoreV1.ServicePort(name: "metrics", port: PipelineNames.metricsPort, protocol: "TCP", targetPort: .string("metrics"))]
        return CoreV1.Service(metadata: meta(names.metricsService, names, worker: nil, owner: owner), spec: spec)
    }

    static func meta(_ name: String, _ names: PipelineNames, worker: String?, owner: MetaV1.OwnerReference) -> MetaV1.ObjectMeta {
        MetaV1.ObjectMeta(labels: names.labels(worker: worker), name: name, namespace: names.namespace, ownerReferences: [owner])
    }
}
