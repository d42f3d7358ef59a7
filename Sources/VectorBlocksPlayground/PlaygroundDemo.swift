import Foundation
import KubeKit
import VectorBlocksAPI
import VectorBlocksCLI

/// The playground's `--demo`: what a new user would do on the first day, each step printed with what the operator
/// made of it.
public struct PlaygroundDemo: Sendable {
    let session: Session
    let say: @Sendable (String) -> Void

    /// Whether pgvector's pods run (the playground's `--run-pods`): then the demo also opens a way in for `psql`.
    let podsRun: Bool
    /// Whether a pipeline's Pelican and Emu pods run too: then the demo also feeds the pgvector cluster from a table.
    let pipelineWorkersRun: Bool

    public init(client: KubeClient, podsRun: Bool = false, pipelineWorkersRun: Bool = false, say: @escaping @Sendable (String) -> Void) {
        session = Session(client: client, namespace: "default")
        self.podsRun = podsRun
        self.pipelineWorkersRun = podsRun && pipelineWorkersRun
        self.say = say
    }

    public func run() async throws {
        say("== 1. create a 3-peer Qdrant cluster \"vectors\" and a 2-replica pgvector cluster \"embeddings\"")
        for creation in [
            ClusterCreation(name: "vectors", namespace: "default", definition: "qdrant", replicas: 3, cpu: "1", memory: "2Gi", terminationPolicy: "Delete"),
            ClusterCreation(name: "embeddings", namespace: "default", definition: "pgvector", replicas: 2, storage: "10Gi", terminationPolicy: "Delete"),
        ] {
            say("   " + ClusterCreation.createdMessage(try await session.createCluster(creation)))
        }
        try await waitRunning("vectors")
        try await waitRunning("embeddings")
        say(try await session.listClusters())

        say("== 2. scale vectors out to 5 peers, then back in to 3")
        try await follow(
            try await session.request(.horizontalScaling, cluster: "vectors") { $0.horizontalScaling = [.init(componentName: "qdrant", replicas: 5)] })
        try await follow(
            try await session.request(.horizontalScaling, cluster: "vectors") { $0.horizontalScaling = [.init(componentName: "qdrant", replicas: 3)] })

        say("== 3. grow the embeddings volumes from 10Gi to 20Gi (PVCs resized in place, the StatefulSet re-made around its pods)")
        try await follow(
            try await session.request(.volumeExpansion, cluster: "embeddings") {
                $0.volumeExpansion = [.init(componentName: "postgresql", volumeClaimTemplates: [.init(name: "data", storage: "20Gi")])]
            })

        say("== 4. expose vectors inside the VPC through an internal NLB")
        let services = try await session.exposeServices(cluster: "vectors", component: "qdrant", type: "vpc", enable: true, sourceRanges: [])
        try await follow(try await session.request(.expose, cluster: "vectors") { $0.expose = [.init(componentName: "qdrant", services: services)] })

        var step = 5
        var address: String?
        if podsRun {
            address = try await connect(to: "embeddings")
            step += 1
        }
        if pipelineWorkersRun, let address {
            try await feed("embeddings", step: step, address: address)
            step += 1
        } else if podsRun {
            say("   (no pipeline step: build pelican and emu beside the playground with `swift build --product pelican --product emu`)")
        }

        say("== \(step). what the operator made of it")
        say(try await session.describeCluster("vectors"))
        if pipelineWorkersRun { say(try await session.describePipeline(Self.pipeline)) }
        say(try await session.listOps(cluster: nil))
    }

    /// Exposes a pgvector cluster through a load balancer and says how to reach it with psql; the password is read
    /// from the Secret by the command printed, never printed itself.
    private func connect(to cluster: String) async throws -> String {
        say("== 5. expose \(cluster) through a load balancer and connect with psql (its pods run PostgreSQL)")
        let services = try await session.exposeServices(cluster: cluster, component: "postgresql", type: "vpc", enable: true, sourceRanges: [])
        try await follow(try await session.request(.expose, cluster: cluster) { $0.expose = [.init(componentName: "postgresql", services: services)] })
        let address = try await loadBalancerAddress(of: cluster)
        let secret = try await session.client.get(CoreV1.Secret.self, name: "\(cluster)-conn-credential", namespace: "default")
        let username = secret.data?["username"].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? "postgres"
        say(
            """
               \(cluster) answers on \(address):5432
                 export PGPASSWORD=$(kubectl get secret \(cluster)-conn-credential -o jsonpath='{.data.password}' | base64 -d)
                 psql -h \(address) -U \(username) -d postgres -c 'select version()'
            """)
        return address
    }

    private func loadBalancerAddress(of cluster: String) async throws -> String {
        for _ in 0..<600 {
            let services = try await session.client.list(
                CoreV1.Service.self, namespace: "default", options: ListOptions(labelSelector: "app.kubernetes.io/instance=\(cluster)")
            ).items
            let ingress = services.filter { $0.spec?.type == "LoadBalancer" }.compactMap { $0.status?.loadBalancer?.ingress?.first?.ip }
            if let address = ingress.first { return address }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CLIError("no load-balancer address for \(cluster); see kubectl get svc -l app.kubernetes.io/instance=\(cluster)")
    }

    private func waitRunning(_ name: String) async throws {
        var last: ClusterPhase?
        for _ in 0..<600 {
            let cluster = try await session.getCluster(name)
            if let phase = cluster.status?.phase, phase != last {
                say("   cluster \(name): \(phase.rawValue)")
                last = phase
            }
            if cluster.status?.phase == .running { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CLIError("cluster \(name) did not reach Running; see kbctl cluster describe \(name)")
    }

    private func follow(_ ops: OpsRequest) async throws {
        _ = try await session.waitFor(ops) { current in
            say("   OpsRequest \(current.metadata?.name ?? ""): \(current.status?.phase?.rawValue ?? "Pending") \(current.status?.progress ?? "-/-")")
        }
    }
}
