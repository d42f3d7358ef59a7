import Foundation
import KubeKit
import VectorBlocksAPI
import VectorBlocksPackaging

extension Session {
    /// The kinds `deploy/operator.yaml` holds, for applying its documents.
    static func descriptor(ofKind kind: String) throws -> ResourceDescriptor {
        let known: [ResourceDescriptor] = [
            CoreV1.Namespace.descriptor, CoreV1.ServiceAccount.descriptor, RbacV1.ClusterRole.descriptor,
            RbacV1.ClusterRoleBinding.descriptor, RbacV1.Role.descriptor, RbacV1.RoleBinding.descriptor,
            CoreV1.Service.descriptor, AppsV1.Deployment.descriptor, PolicyV1.PodDisruptionBudget.descriptor,
            ApiextensionsV1.CustomResourceDefinition.descriptor,
        ]
        guard let descriptor = known.first(where: { $0.kind == kind }) else { throw CLIError("cannot install a \(kind)") }
        return descriptor
    }

    /// `kbctl install`: the CRDs and the operator's manifests (those of `deploy/operator.yaml`, with the image and
    /// namespace given), applied server-side, so running it again upgrades in place.
    public func install(crds: [JSONValue], settings: OperatorSettings, namespace: String) async throws -> [String] {
        var applied: [String] = []
        let documents = try crds + OperatorPackage(settings: settings).manifests(namespace: namespace)
        for document in documents {
            let kind = document["kind"]?.stringValue ?? ""
            let name = document["metadata"]?["name"]?.stringValue ?? ""
            let descriptor = try Self.descriptor(ofKind: kind)
            _ = try await call(descriptor, verb: "patch") {
                try await client.apply(
                    descriptor, document, name: name, namespace: descriptor.namespaced ? namespace : nil,
                    fieldManager: "kbctl", force: true)
            }
            applied.append("\(kind)/\(name)")
        }
        return applied
    }

    /// Waits until the operator's Deployment has a ready replica; says why it is not when time runs out.
    public func waitForOperator(namespace: String, timeout: Duration = .seconds(300)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var last = "not found"
        while clock.now < deadline {
            if let deployment = try? await client.get(AppsV1.Deployment.self, name: OperatorPackage.name, namespace: namespace) {
                let ready = deployment.status?.readyReplicas ?? 0
                last = "\(ready)/\(deployment.spec?.replicas ?? 1) ready"
                if ready > 0 { return }
            }
            try await Task.sleep(for: .seconds(1))
        }
        throw CLIError("the operator is not ready after \(timeout) (\(last)); see kubectl -n \(namespace) describe deployment \(OperatorPackage.name)")
    }

    /// `kbctl uninstall`: the operator's objects; with `removeCRDs` also the CRDs, refused while Clusters exist,
    /// because deleting a CRD deletes every resource of it.
    public func uninstall(settings: OperatorSettings, namespace: String, removeCRDs: Bool, crdNames: [String]) async throws -> [String] {
        if removeCRDs {
            let clusters = try await call(Cluster.descriptor, verb: "list") { try await client.listAll(Cluster.self).items }
            if !clusters.isEmpty {
                throw CLIError(
                    "\(clusters.count) Cluster(s) still exist (\(clusters.prefix(3).compactMap(\.metadata?.name).joined(separator: ", "))); delete them first, or uninstall without --remove-crds"
                )
            }
        }
        var removed: [String] = []
        let documents = try OperatorPackage(settings: settings).manifests(namespace: namespace).reversed()
        for document in documents where document["kind"]?.stringValue != "Namespace" {
            let kind = document["kind"]?.stringValue ?? ""
            let name = document["metadata"]?["name"]?.stringValue ?? ""
            let descriptor = try Self.descriptor(ofKind: kind)
            do {
                try await client.delete(descriptor, name: name, namespace: descriptor.namespaced ? namespace : nil)
                removed.append("\(kind)/\(name)")
            } catch let error as KubeAPIError where error.isNotFound {
                continue
            } catch {
                throw CLIError.from(error, resource: descriptor, verb: "delete")
            }
        }
        if removeCRDs {
            for name in crdNames {
                do {
                    try await client.delete(ApiextensionsV1.CustomResourceDefinition.descriptor, name: name)
                    removed.append("CustomResourceDefinition/\(name)")
                } catch let error as KubeAPIError where error.isNotFound {
                    continue
                }
            }
        }
        return removed
    }
}

extension Session {
    /// What `kbctl install` and `kbctl uninstall` print of the `Kind/name`s they applied or removed.
    public func printNames(_ objects: [String], verb: String, for command: KbctlCommand) throws -> String {
        let printer = try printer(command)
        let names = try objects.map { object in
            let parts = object.split(separator: "/", maxSplits: 1).map(String.init)
            return (try Self.descriptor(ofKind: parts[0]), parts.count == 2 ? parts[1] : "")
        }
        return printer.print(names: names, verb: verb)
    }
}
