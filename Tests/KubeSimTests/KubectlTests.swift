import Foundation
import KubeKit
import KubeSim
import ProcessSpawning
import Testing

/// Drives the real `/usr/bin/kubectl` against KubeSim: a client we did not write.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/kubectl")))
struct KubectlTests {
    struct Kubectl {
        let directory: URL

        init(server: KubeSimServer, token: String?) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubesim-kubectl-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try server.kubeconfigYAML(token: token).write(to: directory.appendingPathComponent("kubeconfig"), atomically: true, encoding: .utf8)
        }

        func write(_ name: String, _ text: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }

        /// Runs kubectl; returns exit status, stdout and stderr. The blocking wait happens on a GCD thread, never on
        /// the cooperative pool the server itself needs (on two cores, blocking it would deadlock the test).
        func run(_ arguments: [String]) async throws -> (status: Int32, out: String, err: String) {
            let directory = self.directory
            let kubeconfig = directory.appendingPathComponent("kubeconfig").path
            let cache = directory.appendingPathComponent("cache").path
            return try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/usr/bin/kubectl")
                    // A request that times out makes kubectl fall back from OpenAPI v3 to v2 ("failed to download
                    // openapi"): in a full run on two cores these tests once took 40 times as long as alone, so the
                    // limit only guards against a hung server.
                    process.arguments = ["--kubeconfig", kubeconfig, "--cache-dir", cache, "--request-timeout", "120s"] + arguments
                    // Output goes to files, so no pipe can fill up and block kubectl.
                    let outURL = directory.appendingPathComponent("out-\(UUID().uuidString)")
                    let errURL = directory.appendingPathComponent("err-\(UUID().uuidString)")
                    do {
                        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
                        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
                        process.standardOutput = try FileHandle(forWritingTo: outURL)
                        process.standardError = try FileHandle(forWritingTo: errURL)
                        try ProcessSpawner.run(process)
                    } catch {
                        continuation.resume(throwing: error)
                        return
                    }
                    process.waitUntilExit()
                    let out = (try? Data(contentsOf: outURL)) ?? Data()
                    let err = (try? Data(contentsOf: errURL)) ?? Data()
                    continuation.resume(returning: (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self)))
                }
            }
        }

        /// Starts a kubectl that runs until it is stopped (`get --watch`, `wait`): its output file can be read while it
        /// runs, and `stop` ends it and returns what it printed.
        func start(_ arguments: [String]) throws -> Running {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/kubectl")
            process.arguments =
                [
                    "--kubeconfig", directory.appendingPathComponent("kubeconfig").path,
                    "--cache-dir", directory.appendingPathComponent("cache").path,
                ] + arguments
            let outURL = directory.appendingPathComponent("out-\(UUID().uuidString)")
            let errURL = directory.appendingPathComponent("err-\(UUID().uuidString)")
            _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
            _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: outURL)
            process.standardError = try FileHandle(forWritingTo: errURL)
            try ProcessSpawner.run(process)
            return Running(process: process, outURL: outURL, errURL: errURL)
        }

        struct Running: @unchecked Sendable {
            let process: Process
            let outURL: URL
            let errURL: URL

            var output: String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }
            var errors: String { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }

            /// Polls the output until `condition` holds or the timeout passes; true when it held.
            func waitForOutput(timeout: Duration = .seconds(60), _ condition: (String) -> Bool) async throws -> Bool {
                let deadline = ContinuousClock.now + timeout
                while ContinuousClock.now < deadline {
                    if condition(output) { return true }
                    try await Task.sleep(for: .milliseconds(100))
                }
                return condition(output)
            }

            /// Waits (off the cooperative pool) for the process to end on its own within the timeout, else stops it.
            func exitStatus(timeout: Duration = .seconds(60)) async -> Int32? {
                let deadline = ContinuousClock.now + timeout
                while process.isRunning, ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(100))
                }
                if process.isRunning {
                    stop()
                    return nil
                }
                return process.terminationStatus
            }

            func stop() {
                if process.isRunning { process.terminate() }
            }
        }

        func cleanUp() {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    @Test func kubectlScenario() async throws {
        // No token: kubectl (clientcmd) only sends credentials over TLS, and KubeSim serves plain HTTP.
        try await withServer { server, _ in
            let kubectl = try Kubectl(server: server, token: nil)
            defer { kubectl.cleanUp() }

            let namespaces = try await kubectl.run(["get", "namespaces"])
            #expect(namespaces.status == 0, "\(namespaces.err)")
            #expect(namespaces.out.contains("kube-system"))
            #expect(namespaces.out.contains("default"))
            #expect(namespaces.out.contains("STATUS"))  // served as a Table
            #expect(namespaces.out.contains("Active"))

            let configMapFile = try kubectl.write(
                "cm.yaml",
                """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: settings
                  labels: {app: demo}
                data:
                  mode: fast
                """)
            let applied = try await kubectl.run(["apply", "-f", configMapFile])
            #expect(applied.status == 0, "\(applied.err)")
            #expect(applied.out.contains("configmap/settings created"))
            // A second client-side apply with a change goes through a strategic merge patch.
            _ = try kubectl.write(
                "cm.yaml",
                """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: settings
                  labels: {app: demo}
                data:
                  mode: slow
                """)
            let reapplied = try await kubectl.run(["apply", "-f", configMapFile])
            #expect(reapplied.status == 0, "\(reapplied.err)")
            #expect(reapplied.out.contains("configmap/settings configured"))

            let yaml = try await kubectl.run(["get", "cm", "settings", "-o", "yaml"])
            #expect(yaml.status == 0, "\(yaml.err)")
            #expect(yaml.out.contains("mode: slow"))
            #expect(yaml.out.contains("kubectl.kubernetes.io/last-applied-configuration"))
            #expect(yaml.out.contains("resourceVersion:"))

            let crdFile = try kubectl.write(
                "crd.yaml",
                """
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata:
                  name: gadgets.example.com
                spec:
                  group: example.com
                  scope: Namespaced
                  names: {plural: gadgets, singular: gadget, kind: Gadget, shortNames: [gd]}
                  versions:
                  - name: v1
                    served: true
                    storage: true
                    subresources: {status: {}}
                    schema:
                      openAPIV3Schema:
                        type: object
                        properties:
                          spec:
                            type: object
                            properties:
                              size: {type: integer}
                """)
            let crd = try await kubectl.run(["apply", "--server-side", "-f", crdFile])
            #expect(crd.status == 0, "\(crd.err)")
            #expect(crd.out.contains("serverside-applied"))

            let gadgetFile = try kubectl.write(
                "gadget.yaml",
                """
                apiVersion: example.com/v1
                kind: Gadget
                metadata:
                  name: g1
                spec:
                  size: 3
                """)
            let gadget = try await kubectl.run(["apply", "--server-side", "-f", gadgetFile])
            #expect(gadget.status == 0, "\(gadget.err)")
            let gadgets = try await kubectl.run(["get", "gd", "g1", "-o", "jsonpath={.spec.size} {.metadata.managedFields[0].manager}"])
            #expect(gadgets.status == 0, "\(gadgets.err)")
            #expect(gadgets.out == "3 kubectl")

            let deleted = try await kubectl.run(["delete", "configmap", "settings"])
            #expect(deleted.status == 0, "\(deleted.err)")
            let gone = try await kubectl.run(["get", "cm", "settings"])
            #expect(gone.status != 0)
            #expect(gone.err.contains("NotFound"))
        }
    }

    @Test func kubectlCustomResourceLifecycle() async throws {
        try await withServer { server, client in
            let kubectl = try Kubectl(server: server, token: nil)
            defer { kubectl.cleanUp() }
            let crdFile = try kubectl.write(
                "crd.yaml",
                """
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata:
                  name: gizmos.example.com
                spec:
                  group: example.com
                  scope: Namespaced
                  names: {plural: gizmos, singular: gizmo, kind: Gizmo, shortNames: [gz]}
                  versions:
                  - name: v1
                    served: true
                    storage: true
                    additionalPrinterColumns:
                    - {name: Size, type: integer, jsonPath: .spec.size}
                    schema:
                      openAPIV3Schema:
                        type: object
                        properties:
                          spec:
                            type: object
                            properties:
                              size: {type: integer}
                """)
            let crd = try await kubectl.run(["apply", "-f", crdFile])
            #expect(crd.status == 0, "\(crd.err)")
            #expect(crd.out.contains("customresourcedefinition.apiextensions.k8s.io/gizmos.example.com created"))
            // As with any API server, the new kind is served (and in the OpenAPI document kubectl validates against)
            // once the definition is Established.
            let established = try await kubectl.run(["wait", "--for", "condition=Established", "crd/gizmos.example.com", "--timeout", "60s"])
            #expect(established.status == 0, "\(established.err)")

            let gizmoFile = try kubectl.write(
                "gizmo.yaml",
                """
                apiVersion: example.com/v1
                kind: Gizmo
                metadata:
                  name: small
                spec:
                  size: 1
                """)
            let created = try await kubectl.run(["apply", "-f", gizmoFile])
            #expect(created.status == 0, "\(created.err)")
            #expect(created.out.contains("gizmo.example.com/small created"))
            let serverSide = try await kubectl.run(["apply", "--server-side", "--force-conflicts", "-f", gizmoFile])
            #expect(serverSide.status == 0, "\(serverSide.err)")
            #expect(serverSide.out.contains("gizmo.example.com/small serverside-applied"))

            let table = try await kubectl.run(["get", "gizmos"])
            #expect(table.status == 0, "\(table.err)")
            #expect(table.out.contains("NAME"))
            #expect(table.out.contains("SIZE"))
            #expect(table.out.contains("small"))

            // A watch started now prints the object, then the patch below as an update (the Table view, row by row).
            func row(_ size: String) -> (String) -> Bool {
                { output in output.split(separator: "\n").contains { $0.split(separator: " ").prefix(2) == ["small", Substring(size)] } }
            }
            let watch = try kubectl.start(["get", "gz", "small", "--watch"])
            defer { watch.stop() }
            #expect(try await watch.waitForOutput(row("1")), "\(watch.output) \(watch.errors)")

            let patched = try await kubectl.run(["patch", "gizmo", "small", "--type", "merge", "-p", #"{"spec":{"size":5}}"#])
            #expect(patched.status == 0, "\(patched.err)")
            #expect(patched.out.contains("gizmo.example.com/small patched"))
            #expect(try await watch.waitForOutput(row("5")), "\(watch.output) \(watch.errors)")

            let yaml = try await kubectl.run(["get", "gizmo", "small", "-o", "yaml"])
            #expect(yaml.status == 0, "\(yaml.err)")
            #expect(yaml.out.contains("size: 5"))
            #expect(yaml.out.contains("kind: Gizmo"))

            // A deletion held by a finalizer: `kubectl wait --for=delete` returns once the test removes it.
            let heldFile = try kubectl.write(
                "held.yaml",
                """
                apiVersion: example.com/v1
                kind: Gizmo
                metadata:
                  name: held
                  finalizers: [example.com/hold]
                spec:
                  size: 2
                """)
            #expect(try await kubectl.run(["apply", "-f", heldFile]).status == 0)
            let deleting = try await kubectl.run(["delete", "gizmo", "held", "--wait=false"])
            #expect(deleting.status == 0, "\(deleting.err)")
            let waiting = try kubectl.start(["wait", "--for=delete", "gizmo/held", "--timeout=120s"])
            defer { waiting.stop() }
            let stillThere = try await client.get("/apis/example.com/v1/namespaces/default/gizmos/held")
            #expect(stillThere.status == 200)
            #expect(stillThere.body["metadata"]?["deletionTimestamp"] != nil)
            #expect(waiting.process.isRunning)
            let released = try await client.patch(
                "/apis/example.com/v1/namespaces/default/gizmos/held", ["metadata": ["finalizers": .null]],
                type: "application/merge-patch+json")
            #expect(released.status == 200)
            #expect(await waiting.exitStatus() == 0, "\(waiting.output) \(waiting.errors)")
            #expect(try await client.get("/apis/example.com/v1/namespaces/default/gizmos/held").status == 404)

            let deleted = try await kubectl.run(["delete", "-f", gizmoFile])
            #expect(deleted.status == 0, "\(deleted.err)")
            #expect(deleted.out.contains("gizmo.example.com \"small\" deleted"))
        }
    }

    @Test func kubectlWithTokenOverTLS() async throws {
        var configuration = KubeSimConfiguration()
        configuration.tokens = ["kubectl-token": "admin"]
        configuration.tls = true
        let server = try await KubeSimServer.start(configuration: configuration)
        let kubectl = try Kubectl(server: server, token: "kubectl-token")
        defer { kubectl.cleanUp() }
        #expect(server.baseURL.hasPrefix("https://127.0.0.1:"))
        let namespaces = try await kubectl.run(["get", "namespaces"])
        #expect(namespaces.status == 0, "\(namespaces.err)")
        #expect(namespaces.out.contains("kube-system"))
        let file = try kubectl.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tls-cm}\ndata: {a: b}\n")
        let created = try await kubectl.run(["apply", "--server-side", "-f", file])
        #expect(created.status == 0, "\(created.err)")
        let fetched = try await kubectl.run(["get", "cm", "tls-cm", "-o", "jsonpath={.data.a}"])
        #expect(fetched.out == "b")

        let unauthenticated = try Kubectl(server: server, token: "wrong")
        defer { unauthenticated.cleanUp() }
        let denied = try await unauthenticated.run(["get", "namespaces"])
        #expect(denied.status != 0)
        #expect(denied.err.contains("provide credentials") || denied.err.contains("Unauthorized"))
        try await server.shutdown()
    }
}
