import ArgumentParser
import Foundation
import KubeKit

/// How fast the generated models decode and encode a list the size a large cluster's informer would load.
struct ModelsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract:
            "Decodes and encodes a StatefulSet list with the generated models, and reads it as a JSONValue as KubeSim stores it (parsed directly, and through JSONDecoder); prints objects per second."
    )

    @Option(help: "StatefulSets in the list.")
    var items = 1_000

    @Option(help: "Timed decode and encode passes over the list.")
    var iterations = 10

    func validate() throws {
        guard items > 0, iterations > 0 else { throw ValidationError("--items and --iterations must be positive") }
    }

    func run() async throws {
        let list = ObjectList(items: (0..<items).map(Self.statefulSet(ordinal:)))
        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
        let json = try encoder.encode(list)
        // One untimed pass each way so that first-use costs (metadata, allocator growth) are not counted.
        _ = try decoder.decode(ObjectList<AppsV1.StatefulSet>.self, from: json)
        _ = try encoder.encode(list)

        let clock = ContinuousClock()
        var decoded = list
        let decodeTime = try clock.measure {
            for _ in 0..<iterations {
                decoded = try decoder.decode(ObjectList<AppsV1.StatefulSet>.self, from: json)
            }
        }
        var encodedBytes = 0
        let encodeTime = try clock.measure {
            for _ in 0..<iterations { encodedBytes = try encoder.encode(decoded).count }
        }
        guard decoded == list else { throw BenchmarkError.roundTripChanged }
        guard try JSONValue.parse(json) == decoder.decode(JSONValue.self, from: json) else { throw BenchmarkError.roundTripChanged }
        let untypedTime = try clock.measure {
            for _ in 0..<iterations { _ = try JSONValue.parse(json) }
        }
        let untypedDecodableTime = try clock.measure {
            for _ in 0..<iterations { _ = try decoder.decode(JSONValue.self, from: json) }
        }

        let objects = Double(items * iterations)
        print("StatefulSet list: \(items) items, \(json.count / 1024) KiB of JSON (\(json.count / items) bytes per item), \(iterations) iterations")
        print("decode: \(Figures.format(objects / decodeTime.seconds)) objects/s (\(Figures.format(decodeTime.seconds / objects * 1e6)) µs per object)")
        print(
            "encode: \(Figures.format(objects / encodeTime.seconds)) objects/s (\(Figures.format(encodeTime.seconds / objects * 1e6)) µs per object, \(encodedBytes / 1024) KiB per list)"
        )
        print(
            "parse as JSONValue (as KubeSim and Emu read JSON): \(Figures.format(objects / untypedTime.seconds)) objects/s (\(Figures.format(untypedTime.seconds / objects * 1e6)) µs per object)"
        )
        print(
            "decode as JSONValue through JSONDecoder: \(Figures.format(objects / untypedDecodableTime.seconds)) objects/s (\(Figures.format(untypedDecodableTime.seconds / objects * 1e6)) µs per object)"
        )
    }

    /// A StatefulSet like the ones the operator makes for a Qdrant component: labels, an owner, a pod template with
    /// probes, env, resources, affinity, tolerations, volumes and a claim template, and a status.
    static func statefulSet(ordinal: Int) -> AppsV1.StatefulSet {
        let cluster = "cluster-\(ordinal)"
        let labels = [
            "app.kubernetes.io/name": "qdrant", "app.kubernetes.io/instance": cluster,
            "app.kubernetes.io/component": "qdrant", "app.kubernetes.io/managed-by": "vectorblocks",
            "apps.vectorblocks.io/component-name": "qdrant",
        ]
        let selector = MetaV1.LabelSelector(matchLabels: [
            "app.kubernetes.io/instance": cluster, "app.kubernetes.io/component": "qdrant",
        ])
        let created = MetaV1.Time(Date(timeIntervalSince1970: 1_790_000_000 + Double(ordinal)))
        let container = CoreV1.Container(
            args: ["/qdrant/scripts/setup.sh"],
            command: ["/bin/sh", "-c"],
            env: [
                CoreV1.EnvVar(name: "QDRANT__TELEMETRY_DISABLED", value: "true"),
                CoreV1.EnvVar(
                    name: "QDRANT__SERVICE__API_KEY",
                    valueFrom: CoreV1.EnvVarSource(
                        secretKeyRef: CoreV1.SecretKeySelector(key: "apiKey", name: "\(cluster)-conn-credential"))),
            ],
            image: "docker.io/qdrant/qdrant:v1.12.4",
            imagePullPolicy: "IfNotPresent",
            livenessProbe: CoreV1.Probe(
                httpGet: CoreV1.HTTPGetAction(path: "/livez", port: "tcp-qdrant"), periodSeconds: 15),
            name: "qdrant",
            ports: [
                CoreV1.ContainerPort(containerPort: 6333, name: "tcp-qdrant"),
                CoreV1.ContainerPort(containerPort: 6334, name: "grpc-qdrant"),
                CoreV1.ContainerPort(containerPort: 6335, name: "p2p"),
            ],
            readinessProbe: CoreV1.Probe(
                httpGet: CoreV1.HTTPGetAction(path: "/readyz", port: "tcp-qdrant"), periodSeconds: 5),
            resources: CoreV1.ResourceRequirements(
                limits: ["cpu": "2", "memory": "4Gi"], requests: ["cpu": "500m", "memory": "2Gi"]),
            volumeMounts: [
                CoreV1.VolumeMount(mountPath: "/qdrant/storage", name: "data"),
                CoreV1.VolumeMount(mountPath: "/qdrant/config", name: "qdrant-config", readOnly: true),
            ])
        let podSpec = CoreV1.PodSpec(
            affinity: CoreV1.Affinity(
                podAntiAffinity: CoreV1.PodAntiAffinity(preferredDuringSchedulingIgnoredDuringExecution: [
                    CoreV1.WeightedPodAffinityTerm(
                        podAffinityTerm: CoreV1.PodAffinityTerm(
                            labelSelector: selector, topologyKey: "kubernetes.io/hostname"),
                        weight: 100)
                ])),
            containers: [container],
            securityContext: CoreV1.PodSecurityContext(fsGroup: 1001),
            serviceAccountName: "\(cluster)-qdrant",
            tolerations: [
                CoreV1.Toleration(effect: "NoSchedule", key: "dedicated", operator: "Equal", value: "vector-db")
            ],
            volumes: [
                CoreV1.Volume(
                    configMap: CoreV1.ConfigMapVolumeSource(defaultMode: 420, name: "\(cluster)-qdrant-config"),
                    name: "qdrant-config")
            ])
        let uidSuffix = String(1_000_000_000_000 + ordinal)
        return AppsV1.StatefulSet(
            metadata: MetaV1.ObjectMeta(
                creationTimestamp: created,
                generation: 2,
                labels: labels,
                name: "\(cluster)-qdrant",
                namespace: "tenant-\(ordinal % 20)",
                ownerReferences: [
                    MetaV1.OwnerReference(
                        apiVersion: "apps.vectorblocks.io/v1alpha1", blockOwnerDeletion: true, controller: true,
                        kind: "Cluster", name: cluster, uid: "00000000-0000-4000-8000-\(uidSuffix)")
                ],
                resourceVersion: String(100_000 + ordinal),
                uid: "11111111-0000-4000-8000-\(uidSuffix)"),
            spec: AppsV1.StatefulSetSpec(
                persistentVolumeClaimRetentionPolicy: AppsV1.StatefulSetPersistentVolumeClaimRetentionPolicy(
                    whenDeleted: "Retain", whenScaled: "Delete"),
                podManagementPolicy: "Parallel",
                replicas: 3,
                selector: selector,
                serviceName: "\(cluster)-qdrant-headless",
                template: CoreV1.PodTemplateSpec(metadata: MetaV1.ObjectMeta(labels: labels), spec: podSpec),
                updateStrategy: AppsV1.StatefulSetUpdateStrategy(type: "RollingUpdate"),
                volumeClaimTemplates: [
                    CoreV1.PersistentVolumeClaim(
                        metadata: MetaV1.ObjectMeta(name: "data"),
                        spec: CoreV1.PersistentVolumeClaimSpec(
                            accessModes: ["ReadWriteOnce"],
                            resources: CoreV1.VolumeResourceRequirements(requests: ["storage": "20Gi"]),
                            storageClassName: "gp3"))
                ]),
            status: AppsV1.StatefulSetStatus(
                availableReplicas: 3, currentReplicas: 3, currentRevision: "\(cluster)-qdrant-7c9d8f6b5",
                observedGeneration: 2, readyReplicas: 3, replicas: 3,
                updateRevision: "\(cluster)-qdrant-7c9d8f6b5", updatedReplicas: 3))
    }
}

enum BenchmarkError: Error, CustomStringConvertible {
    case roundTripChanged

    var description: String { "the decoded list differs from the one that was encoded" }
}
