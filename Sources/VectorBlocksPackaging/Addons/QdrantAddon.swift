import KubeKit
import VectorBlocksAPI

extension Addon {
    /// Qdrant 1.x as a Stateful component of equal peers joined by Raft (DESIGN §2).
    public static let qdrant = Addon(
        name: "qdrant", summary: "Qdrant vector database clusters (Raft peers that join through any answering peer).",
        appVersion: "1.12.5", chartVersion: "0.1.0",
        images: [
            AddonImage(valuesKey: "image", registry: "docker.io", repository: "qdrant/qdrant", tag: "v1.12.5"),
            // The Qdrant image has no curl; the setup script asks peers with a static curl copied from this one.
            AddonImage(valuesKey: "tools", registry: "docker.io", repository: "curlimages/curl", tag: "8.11.1"),
        ], keywords: ["qdrant", "vector", "database", "vectorblocks"], build: QdrantAddon.objects)
}

enum QdrantAddon {
    static let scriptsConfigMap = "vectorblocks-qdrant-scripts"
    static let configConfigMap = "vectorblocks-qdrant-config"
    /// The Qdrant image runs as this user; the data volume is made writable for it through fsGroup.
    static let user: Int64 = 1000

    /// Qdrant's configuration: storage on the data volume, the three ports, cluster mode. Snapshots stay on the
    /// data volume and temporary files go to an emptyDir, so the root filesystem can be read-only.
    static let configFile = """
        log_level: INFO
        storage:
          storage_path: /qdrant/storage
          snapshots_path: /qdrant/storage/snapshots
          temp_path: /qdrant/tmp
          on_disk_payload: true
        service:
          host: 0.0.0.0
          http_port: 6333
          grpc_port: 6334
          enable_cors: false
        cluster:
          enabled: true
          p2p:
            port: 6335
          consensus:
            tick_period_ms: 100
        telemetry_disabled: true

        """

    @Sendable static func objects(_ parameters: AddonParameters) throws -> AddonObjects {
        let labels = Addon.labels("qdrant")
        let scripts = CoreV1.ConfigMap(
            data: ["qdrant-setup.sh": try Addon.script("qdrant-setup.sh")],
            metadata: MetaV1.ObjectMeta(labels: labels, name: scriptsConfigMap, namespace: parameters.namespace))
        let config = CoreV1.ConfigMap(
            data: ["config.yaml": configFile],
            metadata: MetaV1.ObjectMeta(labels: labels, name: configConfigMap, namespace: parameters.namespace))

        let probePort = IntOrString.string("http")
        let container = CoreV1.Container(
            command: ["/bin/sh", "/qdrant/scripts/qdrant-setup.sh"],
            env: [
                PodParts.env("POD_NAME", field: "metadata.name"),
                PodParts.env("QDRANT__SERVICE__API_KEY", credentialKey: "apiKey"),
                // Qdrant writes this marker on first start; the default path is in the read-only root filesystem.
                PodParts.env("QDRANT_INIT_FILE_PATH", "/qdrant/init/.qdrant-initialized"),
                PodParts.env("QDRANT__TELEMETRY_DISABLED", "true"),
                PodParts.env("QDRANT_CONFIG_PATH", "/qdrant/config-vb/config.yaml"),
                PodParts.env("CURL", "/qdrant/tools/curl"),
            ],
            image: parameters.image("image"),
            imagePullPolicy: parameters.imagePullPolicy,
            livenessProbe: CoreV1.Probe(
                failureThreshold: 3, httpGet: CoreV1.HTTPGetAction(path: "/livez", port: probePort), periodSeconds: 15, timeoutSeconds: 5),
            name: "qdrant",
            ports: [
                CoreV1.ContainerPort(containerPort: 6333, name: "http", protocol: "TCP"),
                CoreV1.ContainerPort(containerPort: 6334, name: "grpc", protocol: "TCP"),
                CoreV1.ContainerPort(containerPort: 6335, name: "p2p", protocol: "TCP"),
            ],
            readinessProbe: CoreV1.Probe(
                failureThreshold: 3, httpGet: CoreV1.HTTPGetAction(path: "/readyz", port: probePort), periodSeconds: 5, timeoutSeconds: 3),
            securityContext: PodParts.restrictedContainer(user: user),
            // Loading large collections after a restart can take minutes; liveness must not kill the peer meanwhile.
            startupProbe: CoreV1.Probe(
                failureThreshold: 60, httpGet: CoreV1.HTTPGetAction(path: "/livez", port: probePort), periodSeconds: 5, timeoutSeconds: 3),
            volumeMounts: [
                PodParts.mount("data", at: "/qdrant/storage"),
                PodParts.mount("qdrant-config", at: "/qdrant/config-vb", readOnly: true),
                PodParts.mount("scripts", at: "/qdrant/scripts", readOnly: true),
                PodParts.mount("init", at: "/qdrant/init"),
                PodParts.mount("tmp", at: "/qdrant/tmp"),
                PodParts.mount("tools", at: "/qdrant/tools", readOnly: true),
            ])
        let tools = CoreV1.Container(
            command: ["cp", "/usr/bin/curl", "/qdrant/tools/curl"],
            image: parameters.image("tools"),
            imagePullPolicy: parameters.imagePullPolicy,
            name: "qdrant-tools",
            securityContext: PodParts.restrictedContainer(user: user),
            volumeMounts: [PodParts.mount("tools", at: "/qdrant/tools")])
        let podSpec = CoreV1.PodSpec(
            containers: [container],
            initContainers: [tools],
            securityContext: CoreV1.PodSecurityContext(fsGroup: user, fsGroupChangePolicy: "OnRootMismatch", runAsNonRoot: true),
            // Raft state is flushed on SIGTERM; give a busy peer time to finish.
            terminationGracePeriodSeconds: 60,
            volumes: [PodParts.emptyDir("init"), PodParts.emptyDir("tmp"), PodParts.emptyDir("tools")])
        let definition = ClusterDefinition(
            metadata: MetaV1.ObjectMeta(labels: labels, name: "qdrant"),
            spec: ClusterDefinitionSpec(
                type: "qdrant",
                componentDefs: [
                    ClusterComponentDefinition(
                        name: "qdrant", description: "Qdrant peers: REST on 6333, gRPC on 6334, Raft on 6335 (never exposed).",
                        workloadType: .stateful, characterType: "qdrant",
                        configSpecs: [
                            ComponentTemplateSpec(
                                name: "qdrant-config", templateRef: configConfigMap, namespace: parameters.namespace,
                                volumeName: "qdrant-config", defaultMode: 0o444)
                        ],
                        scriptSpecs: [
                            ComponentTemplateSpec(
                                name: "qdrant-scripts", templateRef: scriptsConfigMap, namespace: parameters.namespace,
                                volumeName: "scripts", defaultMode: 0o555)
                        ],
                        monitor: MonitorConfig(builtIn: false, exporterConfig: .init(scrapePort: .string("http"), scrapePath: "/metrics")),
                        podSpec: podSpec,
                        service: ServiceSpec(ports: [
                            CoreV1.ServicePort(name: "http", port: 6333, protocol: "TCP", targetPort: .string("http")),
                            CoreV1.ServicePort(name: "grpc", port: 6334, protocol: "TCP", targetPort: .string("grpc")),
                        ]),
                        volumeTypes: [VolumeTypeSpec(name: "data", type: .data)])
                ],
                connectionCredential: [
                    // Qdrant has no users; the password and the API key are the same random secret.
                    "username": "qdrant",
                    "password": "$(RANDOM_PASSWD)",
                    "apiKey": "$(RANDOM_PASSWD)",
                    "endpoint": "http://$(SVC_FQDN):$(SVC_PORT_http)",
                    "host": "$(SVC_FQDN)",
                    "port": "$(SVC_PORT_http)",
                    "grpcPort": "$(SVC_PORT_grpc)",
                ]))
        let version = ClusterVersion(
            metadata: MetaV1.ObjectMeta(
                annotations: [VectorBlocksAPI.defaultClusterVersionAnnotation: "true"], labels: labels, name: parameters.clusterVersionName),
            spec: ClusterVersionSpec(
                clusterDefinitionRef: "qdrant",
                componentVersions: [
                    ClusterComponentVersion(
                        componentDefRef: "qdrant",
                        versionsContext: VersionsContext(
                            initContainers: [CoreV1.Container(image: parameters.image("tools"), name: "qdrant-tools")],
                            containers: [CoreV1.Container(image: parameters.image("image"), name: "qdrant")]))
                ]))
        return AddonObjects(configMaps: [scripts, config], definition: definition, version: version)
    }
}
