import AsyncHTTPClient
import Foundation
import KubeKit
import KubeSim
import Testing

/// Pods that really run: as processes in their own network and mount namespaces (`PodRuntime.processes`).
@Suite(.enabled(if: canRunProcessPods, processPodsSkipReason))
struct ProcessPodTests {
    /// The vertical slice: a pod's containers run with their volumes, environment, user and groups, on a pod network
    /// the host reaches; probes drive Ready; logs are served; a killed container restarts; deletion stops it all.
    @Test func aPodRunsAsProcesses() async throws {
        try await withProcessServer { server, client in
            let network = try #require(server.podNetwork)
            try await client.post("/api/v1/namespaces/default/configmaps", configMap("settings", data: ["greeting": "hello"]))
            try await client.post(
                "/api/v1/namespaces/default/secrets",
                [
                    "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "creds"],
                    "data": ["password": .string(Data("s3cret".utf8).base64EncodedString())],
                ])
            try await client.post(
                claimsPath,
                [
                    "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": ["name": "data"],
                    "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]],
                ])
            let shmFile = "kube-sim-test-\(UUID().uuidString)"
            let script = """
                echo "$MESSAGE"; echo "uid=$(id -u) groups=$(id -G)"; cat /config/greeting; echo; cat /etc/creds/password; echo
                echo "host=$(hostname) ip=$POD_IP"; cat /etc/resolv.conf; echo "$(cat /var/lib/data/count 2>/dev/null)x" > /var/lib/data/count; echo "count=$(cat /var/lib/data/count)"
                echo "shm=$(df -k --output=size /dev/shm | tail -1 | tr -d ' ')"; touch /dev/shm/$SHM_FILE
                touch /etc/kube-sim-probe 2>/dev/null && echo "etc=writable" || echo "etc=read-only"
                cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; pwd; touch /tmp/ready; echo started; exec sleep 3600
                """
            let main = shellContainer(
                "main", script,
                extra: [
                    "workingDir": "/work/here",
                    "env": [
                        ["name": "GREETING", "valueFrom": ["configMapKeyRef": ["name": "settings", "key": "greeting"]]],
                        ["name": "POD_NAME", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
                        ["name": "POD_IP", "valueFrom": ["fieldRef": ["fieldPath": "status.podIP"]]],
                        ["name": "MESSAGE", "value": "$(GREETING) from $(POD_NAME), $$(NOT_EXPANDED)"],
                        ["name": "SHM_FILE", "value": .string(shmFile)],
                    ],
                    "volumeMounts": [
                        ["name": "config", "mountPath": "/config"], ["name": "creds", "mountPath": "/etc/creds", "readOnly": true],
                        ["name": "data", "mountPath": "/var/lib/data"], ["name": "token", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"],
                    ],
                    "readinessProbe": ["exec": ["command": ["cat", "/tmp/ready"]], "periodSeconds": 1],
                ])
            let web = shellContainer(
                "web", "exec python3 -m http.server 8080 --bind 0.0.0.0",
                extra: [
                    "ports": [["name": "http", "containerPort": 8080]],
                    "readinessProbe": ["httpGet": ["path": "/", "port": "http"], "periodSeconds": 1],
                ])
            try await client.post(
                podsPath,
                shellPod(
                    "shell", containers: [main, web],
                    extra: [
                        "securityContext": ["runAsUser": 1234, "runAsGroup": 1234, "fsGroup": 2000],
                        "volumes": [
                            ["name": "config", "configMap": ["name": "settings"]], ["name": "creds", "secret": ["secretName": "creds"]],
                            ["name": "data", "persistentVolumeClaim": ["claimName": "data"]],
                            [
                                "name": "token",
                                "projected": [
                                    "sources": [
                                        ["serviceAccountToken": ["path": "token"]],
                                        ["configMap": ["name": "kube-root-ca.crt", "items": [["key": "ca.crt", "path": "ca.crt"]]]],
                                        ["downwardAPI": ["items": [["path": "namespace", "fieldRef": ["fieldPath": "metadata.namespace"]]]]],
                                    ]
                                ],
                            ],
                        ],
                    ]))
            let pod = try await eventually("the pod to be ready", timeout: .seconds(60)) { () -> JSONValue? in
                let pod = try await client.get("\(podsPath)/shell").body
                return pod.ready ? pod : nil
            }
            let podIP = try #require(pod["status"]?["podIP"]?.stringValue)
            #expect(podIP.hasPrefix(String(network.gateway.dropLast(1))), "\(podIP) in \(network.cidr)")
            #expect(pod["status"]?["phase"] == "Running")
            let log = try await eventually("the main container's output") { () -> String? in
                let log = try await client.logs("shell", container: "main")
                return log.contains("started") ? log : nil
            }
            #expect(log.contains("hello from shell, $(NOT_EXPANDED)"))
            #expect(log.contains("uid=1234 groups=1234 2000"))
            #expect(log.contains("\nhello\n"))
            #expect(log.contains("s3cret"))
            #expect(log.contains("host=shell ip=\(podIP)"))
            #expect(log.contains("search default.svc.cluster.local svc.cluster.local cluster.local"))
            #expect(log.contains("nameserver \(network.gateway)"))
            #expect(log.contains("options ndots:5"))
            #expect(log.contains("\ndefault\n/work/here\n"))
            // The container's /dev/shm is its own, of containerd's size, and the host's never sees what it holds.
            #expect(log.contains("shm=65536\n"))
            // /etc holds the secret's new mount point, and is still the host's, read-only.
            #expect(log.contains("etc=read-only\n"))
            #expect(!FileManager.default.fileExists(atPath: "/dev/shm/\(shmFile)"))
            // The host reaches the pod on its own address.
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://\(podIP):8080/"), timeout: .seconds(10))
            #expect(response.status.code == 200)
            // tailLines as kubectl logs --tail.
            #expect(try await client.logs("shell", container: "main", query: "tailLines=1") == "started\n")
            let unnamed = try await client.get("\(podsPath)/shell/log")
            #expect(unnamed.status == 400)

            // A SIGKILLed container restarts (restartPolicy Always), with the previous run's state and log kept.
            try await server.killContainer("main", pod: "shell")
            let restarted = try await eventually("main to run again") { () -> JSONValue? in
                let status = try await client.containerStatus("shell", "main")
                return status?["restartCount"] == 1 && status?["state"]?["running"] != nil ? status : nil
            }
            #expect(restarted["lastState"]?["terminated"]?["exitCode"] == 137)
            #expect(try await client.logs("shell", container: "main", query: "previous=true").contains("started"))
            // The claim's directory outlived the container: the new run appended to what the old one wrote.
            let again = try await eventually("the second run's output") { () -> String? in
                let log = try await client.logs("shell", container: "main")
                return log.contains("started") ? log : nil
            }
            #expect(log.contains("count=x\n"))
            #expect(again.contains("count=xx\n"))

            // Deleting the pod stops its processes (SIGTERM; `sleep` as PID 1 ignores it, so SIGKILL after the grace
            // period) and removes its network.
            try await client.delete("\(podsPath)/shell")
            try await eventually("the pod to be gone", timeout: .seconds(60)) { () -> Bool? in
                try await client.get("\(podsPath)/shell").status == 404 ? true : nil
            }
            try await eventually("the pod's network namespace to be removed") { () -> Bool? in
                let namespaces = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
                return namespaces.contains { $0.hasPrefix(network.bridge + "-") } ? nil : true
            }
        }
    }

    /// Probes read a flag file from a ConfigMap volume, so the test fails them by editing the ConfigMap (the update
    /// reaches the pod as the kubelet's does). Readiness failing takes the pod out of its Service's endpoints and out
    /// of DNS, as a second pod's lookups show; liveness failing restarts the container.
    @Test func readinessTakesThePodOutOfItsServiceAndDNSAndLivenessRestartsIt() async throws {
        try await withProcessServer { _, client in
            try await client.post("/api/v1/namespaces/default/configmaps", configMap("health", data: ["ready": "yes", "alive": "yes"]))
            try await client.post(
                "/api/v1/namespaces/default/services",
                [
                    "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web"],
                    "spec": ["clusterIP": "None", "selector": ["app": "web"], "ports": [["name": "http", "port": 80]]],
                ])
            let probe = { (file: String, failures: Int) -> JSONValue in
                ["exec": ["command": ["grep", "-q", "yes", .string("/health/\(file)")]], "periodSeconds": 1, "failureThreshold": .int(Int64(failures))]
            }
            let server = shellContainer(
                "server", "exec sleep 3600",
                extra: [
                    "volumeMounts": [["name": "health", "mountPath": "/health"]], "readinessProbe": probe("ready", 1),
                    "livenessProbe": probe("alive", 2),
                ])
            try await client.post(
                podsPath, shellPod("web", containers: [server], extra: ["volumes": [["name": "health", "configMap": ["name": "health"]]]]))
            let lookups = shellContainer(
                "lookups", "while true; do echo \"lookup: $(getent hosts web.default.svc.cluster.local | cut -d' ' -f1)\"; sleep 0.3; done")
            try await client.post(podsPath, shellPod("client", containers: [lookups]))

            let ready = try await eventually("the pod to be ready", timeout: .seconds(60)) { () -> JSONValue? in
                let pod = try await client.get("\(podsPath)/web").body
                return pod.ready ? pod : nil
            }
            let podIP = try #require(ready["status"]?["podIP"]?.stringValue)
            let endpoints = { () async throws -> [String] in
                let object = try await client.get("/api/v1/namespaces/default/endpoints/web").body
                return (object["subsets"]?.arrayValue ?? []).flatMap { $0["addresses"]?.arrayValue ?? [] }.compactMap { $0["ip"]?.stringValue }
            }
            _ = try await eventually("the pod in its Service's endpoints") { try await endpoints() == [podIP] ? true : nil }
            _ = try await eventually("DNS to give the pod's address", timeout: .seconds(60)) {
                try await client.logs("client", container: "lookups").contains("lookup: \(podIP)\n") ? true : nil
            }

            try await client.put("/api/v1/namespaces/default/configmaps/health", configMap("health", data: ["ready": "no", "alive": "yes"]))
            _ = try await eventually("the pod to be not ready", timeout: .seconds(120)) {
                try await client.get("\(podsPath)/web").body.ready ? nil : true
            }
            _ = try await eventually("the pod out of its Service's endpoints") { try await endpoints().isEmpty ? true : nil }
            let before = try await client.logs("client", container: "lookups").count
            _ = try await eventually("DNS to give no address") {
                String(try await client.logs("client", container: "lookups").dropFirst(before)).contains("lookup: \n") ? true : nil
            }
            #expect(try await client.containerStatus("web", "server")?["restartCount"] == 0, "readiness must not restart")

            try await client.put("/api/v1/namespaces/default/configmaps/health", configMap("health", data: ["ready": "yes", "alive": "no"]))
            let restarted = try await eventually("the liveness failure to restart the container", timeout: .seconds(120)) { () -> JSONValue? in
                let status = try await client.containerStatus("web", "server")
                return (status?["restartCount"]?.intValue ?? 0) >= 1 ? status : nil
            }
            #expect(restarted["lastState"]?["terminated"] != nil)
            let events = try await client.items("/api/v1/namespaces/default/events")
            #expect(events.contains { $0["reason"] == "Unhealthy" && $0["message"]?.stringValue?.hasPrefix("Liveness probe failed") == true })
            #expect(events.contains { $0["reason"] == "Killing" && $0["message"]?.stringValue?.contains("failed liveness probe") == true })
        }
    }

    @Test func aCrashingContainerBacksOffWithItsLastOutput() async throws {
        try await withProcessServer { _, client in
            try await client.post(podsPath, shellPod("crash", containers: [shellContainer("main", "echo going down; exit 3")]))
            let status = try await eventually("two restarts", timeout: .seconds(60)) { () -> JSONValue? in
                let status = try await client.containerStatus("crash", "main")
                return (status?["restartCount"]?.intValue ?? 0) >= 2 ? status : nil
            }
            let terminated = try #require(status["lastState"]?["terminated"])
            #expect(terminated["exitCode"] == 3)
            #expect(terminated["reason"] == "Error")
            #expect(terminated["message"]?.stringValue?.contains("going down") == true)
            let waiting = try await eventually("CrashLoopBackOff") { () -> JSONValue? in
                let status = try await client.containerStatus("crash", "main")
                return status?["state"]?["waiting"]?["reason"] == "CrashLoopBackOff" ? status : nil
            }
            #expect(waiting["state"]?["waiting"]?["message"]?.stringValue?.contains("restarting failed container=main") == true)
        }
    }

    @Test func initContainersRunFirstAndAPodOfRestartPolicyNeverSucceeds() async throws {
        try await withProcessServer { _, client in
            let pod = shellPod(
                "job", containers: [shellContainer("main", "cat /shared/note")],
                extra: [
                    "restartPolicy": "Never",
                    "initContainers": [
                        shellContainer("prepare", "echo prepared > /shared/note", extra: ["volumeMounts": [["name": "shared", "mountPath": "/shared"]]])
                    ],
                    "volumes": [["name": "shared", "emptyDir": [:]]],
                ])
            var main = pod
            main["spec"]?["containers"] = [shellContainer("main", "cat /shared/note", extra: ["volumeMounts": [["name": "shared", "mountPath": "/shared"]]])]
            try await client.post(podsPath, main)
            let done = try await eventually("the pod to succeed", timeout: .seconds(60)) { () -> JSONValue? in
                let pod = try await client.get("\(podsPath)/job").body
                return pod["status"]?["phase"] == "Succeeded" ? pod : nil
            }
            #expect(done["status"]?["initContainerStatuses"]?[0]?["state"]?["terminated"]?["exitCode"] == 0)
            #expect(try await client.logs("job", container: "main") == "prepared\n")
        }
    }

    @Test func aPodWithAnUnmappedImageStaysSimulated() async throws {
        try await withProcessServer { _, client in
            try await client.post(podsPath, shellPod("qdrant", containers: [["name": "db", "image": "qdrant/qdrant:v1.12.0"]]))
            try await eventually("the simulated pod to be ready") { () -> Bool? in
                try await client.get("\(podsPath)/qdrant").body.ready ? true : nil
            }
            let events = try await client.items("/api/v1/namespaces/default/events")
            #expect(events.contains { $0["reason"] == "Simulated" && $0["message"]?.stringValue?.contains("qdrant/qdrant:v1.12.0") == true })
            #expect(try await client.get("\(podsPath)/qdrant/log").status == 400)
        }
    }
}
