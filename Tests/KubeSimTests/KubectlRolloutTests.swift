import Foundation
import KubeKit
import KubeSim
import Testing

/// `kubectl rollout status` reads the workload status our controllers write; the real kubectl decides when it is done.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/kubectl")))
struct KubectlRolloutTests {
    @Test func rolloutStatusReachesSuccess() async throws {
        try await withServer(configuration: simulatedWorkloads()) { server, _ in
            let kubectl = try KubectlTests.Kubectl(server: server, token: nil)
            defer { kubectl.cleanUp() }
            let manifest = try kubectl.write(
                "workloads.yaml",
                """
                apiVersion: apps/v1
                kind: StatefulSet
                metadata: {name: qdrant}
                spec:
                  replicas: 3
                  serviceName: qdrant-headless
                  selector: {matchLabels: {app: qdrant}}
                  template:
                    metadata: {labels: {app: qdrant}}
                    spec:
                      containers:
                      - {name: qdrant, image: "qdrant/qdrant:v1.12.0"}
                  volumeClaimTemplates:
                  - metadata: {name: data}
                    spec:
                      accessModes: [ReadWriteOnce]
                      resources: {requests: {storage: 1Gi}}
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: emu}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: emu}}
                  template:
                    metadata: {labels: {app: emu}}
                    spec:
                      containers:
                      - {name: emu, image: "vectorblocks/emu:1"}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: qdrant-internet}
                spec:
                  type: LoadBalancer
                  selector: {app: qdrant}
                  ports: [{name: http, port: 6333}]
                """)
            let applied = try await kubectl.run(["apply", "-f", manifest])
            #expect(applied.status == 0, "\(applied.err)")

            let statefulSet = try await kubectl.run(["rollout", "status", "statefulset/qdrant", "--timeout=120s"])
            #expect(statefulSet.status == 0, "\(statefulSet.out)\(statefulSet.err)")
            #expect(statefulSet.out.contains("roll out complete"), "\(statefulSet.out)")
            let deployment = try await kubectl.run(["rollout", "status", "deployment/emu", "--timeout=120s"])
            #expect(deployment.status == 0, "\(deployment.out)\(deployment.err)")
            #expect(deployment.out.contains("successfully rolled out"), "\(deployment.out)")

            // A new image rolls out, and rollout status follows it to the end.
            let image = try await kubectl.run(["set", "image", "statefulset/qdrant", "qdrant=qdrant/qdrant:v1.13.0"])
            #expect(image.status == 0, "\(image.err)")
            let rolled = try await kubectl.run(["rollout", "status", "statefulset/qdrant", "--timeout=120s"])
            #expect(rolled.status == 0, "\(rolled.out)\(rolled.err)")
            let images = try await kubectl.run(["get", "pods", "-l", "app=qdrant", "-o", "jsonpath={.items[*].spec.containers[0].image}"])
            #expect(images.out == "qdrant/qdrant:v1.13.0 qdrant/qdrant:v1.13.0 qdrant/qdrant:v1.13.0", "\(images.out)")
            let pods = try await kubectl.run(["get", "pods", "-l", "app=qdrant"])
            #expect(pods.out.contains("Running"), "\(pods.out)")
            let wide = try await kubectl.run(["get", "pods", "qdrant-0", "-o", "wide"])
            #expect(wide.out.contains("10.244."), "\(wide.out)")
            #expect(wide.out.contains("kube-sim-worker-"), "\(wide.out)")
            let service = try await eventually("the load balancer's hostname in kubectl get svc") { () -> String? in
                let listed = try await kubectl.run(["get", "svc", "qdrant-internet"])
                return listed.out.contains(".elb.sim.local") ? listed.out : nil
            }
            #expect(service.contains("LoadBalancer"), "\(service)")
            // The endpoints follow the ready pods, a moment after the Service.
            _ = try await eventually("the Service's endpoints on 6333 in kubectl get endpoints") { () -> String? in
                let endpoints = try await kubectl.run(["get", "endpoints", "qdrant-internet"])
                return endpoints.out.contains(":6333") ? endpoints.out : nil
            }
            let bound = try await kubectl.run(["get", "pvc", "data-qdrant-0"])
            #expect(bound.out.contains("Bound") && bound.out.contains("1Gi"), "\(bound.out)")
            let claims = try await kubectl.run(["get", "pvc", "-o", "name"])
            #expect(
                claims.out.split(separator: "\n").sorted() == [
                    "persistentvolumeclaim/data-qdrant-0", "persistentvolumeclaim/data-qdrant-1", "persistentvolumeclaim/data-qdrant-2",
                ])
        }
    }
}
