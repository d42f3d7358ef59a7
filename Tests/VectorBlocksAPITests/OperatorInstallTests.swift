import Foundation
import KubeKit
import ProcessSpawning
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

/// The install of README's "Install on EKS" against KubeSim with the real kubectl, then the real operator binary
/// started the way the Deployment starts it (its args and env, `$(POD_NAMESPACE)` expanded as the kubelet does).
@Suite("Installing the operator with kubectl, and running it with the Deployment's flags")
struct OperatorInstallTests {
    @Test("kubectl apply --server-side -f crds/ -f deploy/operator.yaml, then the operator takes its Lease and stops on SIGTERM")
    func installAndRun() async throws {
        let kubectl = ProcessInfo.processInfo.environment["VB_KUBECTL"] ?? "/usr/bin/kubectl"
        try #require(FileManager.default.isExecutableFile(atPath: kubectl), "kubectl is missing at \(kubectl): install it or set VB_KUBECTL")
        let operatorBinary = try BuiltProduct.path("vectorblocks-operator")
        let directory = try TemporaryDirectory()
        try await withKubeSim { server, client in
            let kubeconfig = "\(directory.path)/kubeconfig"
            try Data(server.kubeconfigYAML(token: nil).utf8).write(to: URL(fileURLWithPath: kubeconfig))
            let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": directory.path]

            let applied = try await run(
                kubectl, ["--kubeconfig", kubeconfig, "apply", "--server-side", "-f", "crds/", "-f", "deploy/operator.yaml"],
                environment: environment)
            #expect(applied.status == 0, "\(applied.output)")
            #expect(applied.output.contains("deployment.apps/vectorblocks-operator serverside-applied"), "\(applied.output)")
            #expect(applied.output.contains("clusterrole.rbac.authorization.k8s.io/vectorblocks-operator serverside-applied"), "\(applied.output)")

            let namespace = OperatorPackage.defaultNamespace
            let deployment = try await client.get(AppsV1.Deployment.self, name: OperatorPackage.name, namespace: namespace)
            let container = try #require(deployment.spec?.template.spec?.containers.first)
            #expect(deployment.spec?.replicas == 2)

            // What the kubelet gives the container: the env (POD_NAMESPACE from the downward API), and the args with
            // $(VAR) expanded from it. Only the listen addresses change, so parallel tests do not collide.
            var podEnvironment = environment
            for variable in container.env ?? [] {
                if variable.valueFrom?.fieldRef?.fieldPath == "metadata.namespace" {
                    podEnvironment[variable.name] = namespace
                } else {
                    let value = try #require(variable.value, "\(variable.name) has neither a value nor the namespace")
                    podEnvironment[variable.name] = value
                }
            }
            var arguments = (container.args ?? []).map { argument in
                podEnvironment.reduce(argument) { $0.replacingOccurrences(of: "$(\($1.key))", with: $1.value) }
            }
            for flag in ["--metrics-bind-address", "--health-probe-bind-address"] {
                let index = try #require(arguments.firstIndex(of: flag), "the Deployment sets \(flag)")
                arguments[index + 1] = "127.0.0.1:0"
            }
            #expect(arguments.contains("--leader-election-namespace") && arguments.contains(namespace))

            let log = URL(fileURLWithPath: "\(directory.path)/operator.log")
            try Data().write(to: log)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: operatorBinary)
            process.arguments = arguments + ["--kubeconfig", kubeconfig]
            process.environment = podEnvironment
            let output = try FileHandle(forWritingTo: log)
            process.standardOutput = output
            process.standardError = output
            try ProcessSpawner.run(process)
            defer { if process.isRunning { process.terminate() } }
            func logText() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

            // Generous: the binary starts, lists its informers and elects itself on a loaded machine.
            var holder: String?
            let deadline = ContinuousClock.now + .seconds(120)
            while holder == nil && process.isRunning && ContinuousClock.now < deadline {
                holder = try? await client.get(CoordinationV1.Lease.self, name: "vectorblocks-operator", namespace: namespace).spec?.holderIdentity
                if holder == nil { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(holder?.isEmpty == false, "the operator holds the Lease in \(namespace); its log:\n\(logText())")
            // JSON logs, as --log-format json asks.
            let firstLine = logText().split(separator: "\n").first.map(String.init) ?? ""
            #expect((try? JSONDecoder().decode(JSONValue.self, from: Data(firstLine.utf8)))?["msg"] != nil, "\(logText())")

            process.terminate()
            let stopDeadline = ContinuousClock.now + .seconds(60)
            while process.isRunning && ContinuousClock.now < stopDeadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!process.isRunning, "the operator stops on SIGTERM; its log:\n\(logText())")
            if !process.isRunning {
                #expect(process.terminationStatus == 0, "\(logText())")
            }
            try output.close()
        }
    }
}
