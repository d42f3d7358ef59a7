import Foundation
import KubeKit
import KubeSim
import Testing

/// kubectl's imperative commands send built-in kinds as protobuf. Each object they make must equal the one the same
/// command's JSON (`--dry-run=client -o json`, created with `create -f`) makes, and the day-2 commands must work on it.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/kubectl")))
struct KubectlProtobufTests {
    static let commands: [(resource: String, arguments: [String])] = [
        ("secret/src", ["create", "secret", "generic", "src", "--from-literal=url=postgres://u:p@h/db", "--type=Opaque"]),
        ("configmap/settings", ["create", "configmap", "settings", "--from-literal=mode=fast", "--from-literal=batch=64"]),
        ("serviceaccount/pipeline", ["create", "serviceaccount", "pipeline"]),
        ("deployment/web", ["create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "--port=8080"]),
        ("service/web", ["create", "service", "clusterip", "web", "--tcp=80:8080"]),
        ("role/reader", ["create", "role", "reader", "--verb=get,list", "--resource=pods,secrets"]),
        ("rolebinding/reader", ["create", "rolebinding", "reader", "--role=reader", "--serviceaccount=proto:pipeline"]),
    ]

    @Test("create namespace|secret|configmap|serviceaccount|deployment|service|role|rolebinding equal their JSON twins")
    func imperativeCreatesMatchJSON() async throws {
        try await withServer(configuration: simulatedWorkloads()) { server, _ in
            let kubectl = try KubectlTests.Kubectl(server: server, token: nil)
            defer { kubectl.cleanUp() }
            for namespace in ["proto", "json"] {
                let created = try await kubectl.run(["create", "namespace", namespace])
                #expect(created.status == 0, "\(created.err)")
            }
            for (resource, arguments) in Self.commands {
                let viaProtobuf = try await kubectl.run(arguments + ["-n", "proto"])
                #expect(viaProtobuf.status == 0, "\(arguments): \(viaProtobuf.err)")
                let json = try await kubectl.run(arguments + ["-n", "json", "--dry-run=client", "-o", "json"])
                let file = try kubectl.write("\(resource.replacingOccurrences(of: "/", with: "-")).json", json.out)
                let viaJSON = try await kubectl.run(["create", "-n", "json", "-f", file])
                #expect(viaJSON.status == 0, "\(resource): \(viaJSON.err)")
                let made = try await comparable(kubectl, resource, namespace: "proto")
                let twin = try await comparable(kubectl, resource, namespace: "json")
                #expect(made == twin, "\(resource) via protobuf differs from its JSON twin")
            }
            let namespaces = try await (comparable(kubectl, "namespace/proto", namespace: nil), comparable(kubectl, "namespace/json", namespace: nil))
            #expect(namespaces.0["spec"] == namespaces.1["spec"])
        }
    }

    @Test("label, annotate, scale, set image, rollout restart and delete work on what kubectl created")
    func dayTwoCommands() async throws {
        try await withServer(configuration: simulatedWorkloads()) { server, _ in
            let kubectl = try KubectlTests.Kubectl(server: server, token: nil)
            defer { kubectl.cleanUp() }
            for arguments in [
                ["create", "deployment", "web", "--image=nginx:1.27", "--replicas=1"],
                ["label", "deployment/web", "team=search"], ["annotate", "deployment/web", "owner=platform"],
                ["scale", "deployment/web", "--replicas=3"], ["set", "image", "deployment/web", "nginx=nginx:1.28"],
                ["rollout", "restart", "deployment/web"],
            ] {
                let result = try await kubectl.run(arguments)
                #expect(result.status == 0, "\(arguments): \(result.err)")
            }
            let web = try await comparable(kubectl, "deployment/web", namespace: "default")
            #expect(web["metadata"]?["labels"]?["team"] == "search")
            #expect(web["metadata"]?["annotations"]?["owner"] == "platform")
            #expect(web["spec"]?["replicas"] == 3)
            #expect(web["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["image"] == "nginx:1.28")
            #expect(web["spec"]?["template"]?["metadata"]?["annotations"]?["kubectl.kubernetes.io/restartedAt"] != nil)
            let deleted = try await kubectl.run(["delete", "deployment/web"])
            #expect(deleted.status == 0, "\(deleted.err)")
            let gone = try await kubectl.run(["get", "deployment/web"])
            #expect(gone.status != 0 && gone.err.contains("NotFound"), "\(gone.err)")
        }
    }

    /// `kubectl get -o json` without what differs between any two objects (identity, times, owners of fields).
    private func comparable(_ kubectl: KubectlTests.Kubectl, _ resource: String, namespace: String?) async throws -> JSONValue {
        let result = try await kubectl.run(["get", resource, "-o", "json"] + (namespace.map { ["-n", $0] } ?? []))
        var object = try JSONValue.parse(result.out)
        for key in ["uid", "resourceVersion", "creationTimestamp", "managedFields", "namespace", "generation", "name"] {
            object["metadata"]?[key] = nil
        }
        if object["metadata"]?["labels"]?["kubernetes.io/metadata.name"] != nil { object["metadata"]?["labels"] = nil }
        object["status"] = nil
        object["spec"]?["clusterIP"] = nil
        object["spec"]?["clusterIPs"] = nil
        return object
    }
}
