import KubeKit
import VectorBlocksAPI

extension Addon {
    /// PostgreSQL with pgvector as a Replication component: a primary and streaming hot standbys (DESIGN §2).
    public static let pgvector = Addon(
        name: "pgvector", summary: "PostgreSQL with the pgvector extension, a primary and streaming hot standbys.",
        appVersion: "17", chartVersion: "0.1.0",
        images: [AddonImage(valuesKey: "image", registry: "docker.io", repository: "pgvector/pgvector", tag: "pg17")],
        keywords: ["postgresql", "pgvector", "vector", "database", "vectorblocks"], build: PgvectorAddon.objects)
}

enum PgvectorAddon {
    static let scriptsConfigMap = "vectorblocks-pgvector-scripts"
    static let configConfigMap = "vectorblocks-pgvector-config"
    /// The postgres user of the official image.
    static let user: Int64 = 999

    static let postgresqlConf = """
        listen_addresses = '*'
        port = 5432
        unix_socket_directories = '/var/run/postgresql'
        password_encryption = 'scram-sha-256'
        max_connections = 200
        shared_buffers = '128MB'
        # Streaming replication to hot standbys.
        wal_level = 'replica'
        max_wal_senders = 10
        max_replication_slots = 10
        wal_keep_size = '1GB'
        hot_standby = on
        hot_standby_feedback = on
        # A standby notices a primary lost without a connection reset (its node gone) within seconds rather than the
        # default minute; the operator promotes only once every standby's WAL receiver stopped.
        wal_receiver_timeout = '5s'
        wal_sender_timeout = '5s'
        # A primary that lost its role rejoins by pg_rewind, which needs hint-bit changes in the WAL.
        wal_log_hints = on
        recovery_target_timeline = 'latest'
        # The root filesystem is read-only; statistics stay in shared memory and temporary files under PGDATA.
        log_destination = 'stderr'
        logging_collector = off

        """

    /// Every network connection authenticates with scram-sha-256 against the credential, replication included.
    static let hbaConf = """
        # TYPE  DATABASE     USER  ADDRESS      METHOD
        local   all          all                scram-sha-256
        host    all          all   127.0.0.1/32 scram-sha-256
        host    all          all   ::1/128      scram-sha-256
        host    all          all   0.0.0.0/0    scram-sha-256
        host    all          all   ::/0         scram-sha-256
        host    replication  all   0.0.0.0/0    scram-sha-256
        host    replication  all   ::/0         scram-sha-256

        """

    @Sendable static func objects(_ parameters: AddonParameters) throws -> AddonObjects {
        let labels = Addon.labels("pgvector")
        let scripts = CoreV1.ConfigMap(
            data: ["pgvector-setup.sh": try Addon.script("pgvector-setup.sh")],
            metadata: MetaV1.ObjectMeta(labels: labels, name: scriptsConfigMap, namespace: parameters.namespace))
        let config = CoreV1.ConfigMap(
            data: ["postgresql.conf": postgresqlConf, "pg_hba.conf": hbaConf],
            metadata: MetaV1.ObjectMeta(labels: labels, name: configConfigMap, namespace: parameters.namespace))

        // pg_isready only asks whether the server accepts connections; it needs no password.
        let isReady = CoreV1.ExecAction(command: ["pg_isready", "--host=127.0.0.1", "--port=5432", "--timeout=3"])
        let container = CoreV1.Container(
            command: ["/bin/sh", "/scripts/pgvector-setup.sh"],
            env: [
                PodParts.env("POD_NAME", field: "metadata.name"),
                PodParts.env("POSTGRES_USER", credentialKey: "username"),
                PodParts.env("POSTGRES_PASSWORD", credentialKey: "password"),
                PodParts.env("PGDATA", "/var/lib/postgresql/data/pgdata"),
                PodParts.env("VB_CONFIG_DIR", "/etc/postgresql/vb"),
            ],
            image: parameters.image("image"),
            imagePullPolicy: parameters.imagePullPolicy,
            // SIGTERM alone is PostgreSQL's smart shutdown, which waits for every client to leave; a fast one ends
            // their sessions, checkpoints, and sends the standbys the WAL up to the shutdown, so a primary that is
            // fenced or switched over loses nothing and stops well within the grace period.
            lifecycle: CoreV1.Lifecycle(
                preStop: CoreV1.LifecycleHandler(
                    exec: CoreV1.ExecAction(command: ["/bin/sh", "-c", "pg_ctl stop --pgdata=\"$PGDATA\" --mode=fast --wait --timeout=50 || true"]))),
            livenessProbe: CoreV1.Probe(exec: isReady, failureThreshold: 6, periodSeconds: 10, timeoutSeconds: 5),
            name: "postgresql",
            ports: [CoreV1.ContainerPort(containerPort: 5432, name: "tcp-postgresql", protocol: "TCP")],
            readinessProbe: CoreV1.Probe(exec: isReady, failureThreshold: 3, periodSeconds: 5, timeoutSeconds: 5),
            securityContext: PodParts.restrictedContainer(user: user),
            // A standby's first pg_basebackup copies the whole database before the server starts.
            startupProbe: CoreV1.Probe(exec: isReady, failureThreshold: 360, periodSeconds: 10, timeoutSeconds: 5),
            volumeMounts: [
                PodParts.mount("data", at: "/var/lib/postgresql/data"),
                PodParts.mount("pgvector-config", at: "/etc/postgresql/vb", readOnly: true),
                PodParts.mount("scripts", at: "/scripts", readOnly: true),
                PodParts.mount("run", at: "/var/run/postgresql"),
                PodParts.mount("tmp", at: "/tmp"),
            ])
        let podSpec = CoreV1.PodSpec(
            containers: [container],
            securityContext: CoreV1.PodSecurityContext(fsGroup: user, fsGroupChangePolicy: "OnRootMismatch", runAsNonRoot: true),
            terminationGracePeriodSeconds: 60,
            volumes: [PodParts.emptyDir("run"), PodParts.emptyDir("tmp")])
        let definition = ClusterDefinition(
            metadata: MetaV1.ObjectMeta(labels: labels, name: "pgvector"),
            spec: ClusterDefinitionSpec(
                type: "postgresql",
                componentDefs: [
                    ClusterComponentDefinition(
                        name: "postgresql",
                        description: "PostgreSQL with pgvector: the primary the operator designates starts read-write, the others stream from it.",
                        workloadType: .replication, characterType: "postgresql",
                        configSpecs: [
                            ComponentTemplateSpec(
                                name: "pgvector-config", templateRef: configConfigMap, namespace: parameters.namespace,
                                volumeName: "pgvector-config", defaultMode: 0o444)
                        ],
                        scriptSpecs: [
                            ComponentTemplateSpec(
                                name: "pgvector-scripts", templateRef: scriptsConfigMap, namespace: parameters.namespace,
                                volumeName: "scripts", defaultMode: 0o555)
                        ],
                        podSpec: podSpec,
                        service: ServiceSpec(ports: [
                            CoreV1.ServicePort(name: "tcp-postgresql", port: 5432, protocol: "TCP", targetPort: .string("tcp-postgresql"))
                        ]),
                        volumeTypes: [VolumeTypeSpec(name: "data", type: .data)])
                ],
                connectionCredential: [
                    "username": "postgres",
                    "password": "$(RANDOM_PASSWD)",
                    "endpoint": "$(SVC_FQDN):$(SVC_PORT_tcp-postgresql)",
                    "host": "$(SVC_FQDN)",
                    "port": "$(SVC_PORT_tcp-postgresql)",
                ]))
        let version = ClusterVersion(
            metadata: MetaV1.ObjectMeta(
                annotations: [VectorBlocksAPI.defaultClusterVersionAnnotation: "true"], labels: labels, name: parameters.clusterVersionName),
            spec: ClusterVersionSpec(
                clusterDefinitionRef: "pgvector",
                componentVersions: [
                    ClusterComponentVersion(
                        componentDefRef: "postgresql",
                        versionsContext: VersionsContext(containers: [CoreV1.Container(image: parameters.image("image"), name: "postgresql")]))
                ]))
        return AddonObjects(configMaps: [scripts, config], definition: definition, version: version)
    }
}
