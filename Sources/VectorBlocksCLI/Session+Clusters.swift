import Foundation
import KubeKit
import VectorBlocksAPI

extension Session {
    /// `kbctl cluster create`: the Cluster, checked against the installed definition first so a typo is named.
    public func createCluster(_ creation: ClusterCreation) async throws -> Cluster {
        let definition: ClusterDefinition
        do {
            definition = try await client.get(ClusterDefinition.self, name: creation.definition)
        } catch let error as KubeAPIError where error.isNotFound {
            let installed = try await call(ClusterDefinition.descriptor, verb: "list") {
                try await client.list(ClusterDefinition.self).items.compactMap(\.metadata?.name)
            }
            throw CLIError(
                "cluster definition \"\(creation.definition)\" is not installed; installed: "
                    + (installed.isEmpty ? "none (run kbctl addon enable qdrant)" : installed.sorted().joined(separator: ", ")))
        } catch {
            throw CLIError.from(error, resource: ClusterDefinition.descriptor)
        }
        let cluster = try creation.cluster(definition: definition)
        return try await call(Cluster.descriptor, verb: "create") { try await client.create(cluster) }
    }

    public func getCluster(_ name: String) async throws -> Cluster {
        do {
            return try await client.get(Cluster.self, name: name, namespace: namespace)
        } catch let error as KubeAPIError where error.isNotFound && error.message.contains("\"\(name)\"") {
            throw CLIError("cluster \"\(name)\" not found in namespace \"\(namespace)\"; see kbctl cluster list")
        } catch {
            throw CLIError.from(error, resource: Cluster.descriptor)
        }
    }

    /// What `kbctl cluster create` prints: the policy it set (table), or the Cluster as the API made it.
    public func printCreated(_ cluster: Cluster) async throws -> String {
        try await printer(.clusterCreate).print([PrintedObject(cluster)], single: true) { _ in ClusterCreation.createdMessage(cluster) }
    }

    /// `kbctl cluster delete`: what it printed.
    @discardableResult
    public func deleteCluster(_ name: String) async throws -> String {
        let printer = try printer(.clusterDelete)
        _ = try await getCluster(name)
        _ = try await call(Cluster.descriptor, verb: "delete") { try await client.delete(Cluster.self, name: name, namespace: namespace) }
        return printer.print(names: [(Cluster.descriptor, name)], verb: "deleted")
    }

    /// `kbctl cluster list`: NAME, NAMESPACE, CLUSTER-DEFINITION, VERSION, TERMINATION-POLICY, STATUS, CREATED-TIME.
    public func listClusters(allNamespaces: Bool = false) async throws -> String {
        let printer = try printer(.clusterList)
        let clusters = try await call(Cluster.descriptor, verb: "list") {
            try await client.listAll(Cluster.self, namespace: allNamespaces ? nil : namespace).items
        }
        return try await printer.print(try clusters.map(PrintedObject.init), single: false) { wide in
            clustersTable(clusters, wide: wide, allNamespaces: allNamespaces)
        }
    }

    func clustersTable(_ clusters: [Cluster], wide: Bool, allNamespaces: Bool) -> String {
        if clusters.isEmpty { return "No clusters found in \(allNamespaces ? "any namespace" : "namespace \(namespace)").\n" }
        var headers = ["NAME", "NAMESPACE", "CLUSTER-DEFINITION", "VERSION", "TERMINATION-POLICY", "STATUS", "CREATED-TIME"]
        if wide { headers.append("COMPONENTS") }
        let rows = clusters.map { cluster in
            var row = [
                cluster.metadata?.name ?? "", cluster.metadata?.namespace ?? "", cluster.spec.clusterDefinitionRef,
                cluster.spec.clusterVersionRef ?? "", cluster.spec.terminationPolicy.rawValue,
                cluster.status?.phase?.rawValue ?? "", Self.timestamp(cluster.metadata?.creationTimestamp),
            ]
            if wide {
                row.append(cluster.spec.componentSpecs.map { "\($0.name)(\($0.replicas ?? 1))" }.joined(separator: ","))
            }
            return row
        }
        return Table(headers: headers, rows: rows).render(width: width)
    }

    /// `kbctl cluster describe`: endpoints, topology, resources, images and recent events, as kbcli shows them.
    public func describeCluster(_ name: String) async throws -> String {
        let printer = try printer(.clusterDescribe)
        let cluster = try await getCluster(name)
        return try await printer.print([PrintedObject(cluster)], single: true) { _ in try await description(of: cluster) }
    }

    func description(of cluster: Cluster) async throws -> String {
        let name = cluster.metadata?.name ?? ""
        let selector = ListOptions(labelSelector: "app.kubernetes.io/instance=\(name),app.kubernetes.io/managed-by=vectorblocks")
        let services = try await call(CoreV1.Service.descriptor, verb: "list") {
            try await client.list(CoreV1.Service.self, namespace: namespace, options: selector).items
        }
        let pods = try await call(CoreV1.Pod.descriptor, verb: "list") {
            try await client.list(CoreV1.Pod.self, namespace: namespace, options: selector).items
        }
        let workloads = try await call(AppsV1.StatefulSet.descriptor, verb: "list") {
            try await client.list(AppsV1.StatefulSet.self, namespace: namespace, options: selector).items
        }
        var text = "Name: \(name)\t Created Time: \(Self.timestamp(cluster.metadata?.creationTimestamp))\n"
        text += Table(
            headers: ["NAMESPACE", "CLUSTER-DEFINITION", "VERSION", "STATUS", "TERMINATION-POLICY"],
            rows: [
                [
                    namespace, cluster.spec.clusterDefinitionRef, cluster.spec.clusterVersionRef ?? "<default>",
                    cluster.status?.phase?.rawValue ?? "", cluster.spec.terminationPolicy.rawValue,
                ]
            ]
        ).render(width: width)

        text += "\nEndpoints:\n"
        let endpointRows: [[String]] = services.filter { $0.spec?.clusterIP != "None" }.sorted { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }.map {
            service in
            let component = service.metadata?.labels?["apps.vectorblocks.io/component-name"] ?? ""
            let ports = (service.spec?.ports ?? []).map { String($0.port) }
            let host = "\(service.metadata?.name ?? "").\(namespace).svc"
            let inside = ports.map { "\(host):\($0)" }.joined(separator: "\n")
            let ingress = service.status?.loadBalancer?.ingress?.first
            let external =
                (ingress?.hostname ?? ingress?.ip).map { address in ports.map { "\(address):\($0)" }.joined(separator: ",") }
                ?? (service.spec?.type == "LoadBalancer" ? "<pending>" : "<none>")
            let mode = service.metadata?.name?.hasSuffix("-ro") == true ? "ReadOnly" : "ReadWrite"
            return [component, mode, inside.replacingOccurrences(of: "\n", with: ","), external]
        }
        text += Table(headers: ["COMPONENT", "MODE", "INTERNAL", "EXTERNAL"], rows: endpointRows).render(width: width)

        text += "\nTopology:\n"
        let topology = pods.sorted { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }.map { pod in
            [
                pod.metadata?.labels?["apps.vectorblocks.io/component-name"] ?? "", pod.metadata?.name ?? "",
                pod.metadata?.labels?["apps.vectorblocks.io/role"] ?? "<none>", pod.status?.phase ?? "",
                pod.spec?.nodeName.map { "\($0)/\(pod.status?.hostIP ?? "")" } ?? "<none>",
                Self.timestamp(pod.metadata?.creationTimestamp),
            ]
        }
        text += Table(headers: ["COMPONENT", "INSTANCE", "ROLE", "STATUS", "NODE", "CREATED-TIME"], rows: topology).render(width: width)

        text += "\nResources Allocation:\n"
        let resources = cluster.spec.componentSpecs.map { component in
            let requests = component.resources?.requests ?? [:]
            let limits = component.resources?.limits ?? [:]
            let claim = component.volumeClaimTemplates?.first
            return [
                component.name, "\(requests["cpu"]?.description ?? "-") / \(limits["cpu"]?.description ?? "-")",
                "\(requests["memory"]?.description ?? "-") / \(limits["memory"]?.description ?? "-")",
                claim.map { "\($0.name):\($0.spec.resources?.requests?["storage"]?.description ?? "-")" } ?? "<none>",
                claim?.spec.storageClassName ?? "<default>",
            ]
        }
        text += Table(headers: ["COMPONENT", "CPU(REQUEST/LIMIT)", "MEMORY(REQUEST/LIMIT)", "STORAGE-SIZE", "STORAGE-CLASS"], rows: resources).render(
            width: width)

        text += "\nImages:\n"
        let images = workloads.flatMap { workload in
            (workload.spec?.template.spec?.containers ?? []).map { container in
                [workload.metadata?.labels?["apps.vectorblocks.io/component-name"] ?? "", container.name, container.image ?? ""]
            }
        }
        text += Table(headers: ["COMPONENT", "CONTAINER", "IMAGE"], rows: images).render(width: width)

        let events = try await recentEvents(of: name, limit: 10)
        text += "\nEvents(last \(events.count), see more: kbctl cluster list-events -n \(namespace) \(name)):\n"
        text +=
            events.isEmpty
            ? "No events found.\n" : Table(headers: ["TIME", "TYPE", "REASON", "OBJECT", "MESSAGE"], rows: events.map(Self.eventRow)).render(width: width)
        return text
    }

    /// Events about the Cluster, its OpsRequests and the objects it owns (labelled with its instance), newest last.
    func recentEvents(of cluster: String, limit: Int? = nil) async throws -> [CoreV1.Event] {
        let stored = try await getCluster(cluster)
        let requests = try await call(OpsRequest.descriptor, verb: "list") { try await client.listAll(OpsRequest.self, namespace: namespace).items }
        var related = [RelatedObject(kind: Cluster.descriptor.kind, metadata: stored.metadata)]
        related += requests.filter { $0.spec.clusterRef == cluster }.map { RelatedObject(kind: OpsRequest.descriptor.kind, metadata: $0.metadata) }
        related += try await labelled(
            "app.kubernetes.io/instance=\(cluster)",
            kinds: [
                AppsV1.StatefulSet.descriptor, CoreV1.Pod.descriptor, CoreV1.Service.descriptor, CoreV1.PersistentVolumeClaim.descriptor,
                CoreV1.Secret.descriptor, CoreV1.ConfigMap.descriptor, PolicyV1.PodDisruptionBudget.descriptor,
            ])
        return try await events(about: related, limit: limit)
    }

    struct RelatedObject {
        var kind: String
        var metadata: MetaV1.ObjectMeta?
    }

    /// The objects of `kinds` that carry `selector`.
    func labelled(_ selector: String, kinds: [ResourceDescriptor]) async throws -> [RelatedObject] {
        var objects: [RelatedObject] = []
        for descriptor in kinds {
            let items = try await call(descriptor, verb: "list") {
                try await client.listAll(descriptor, namespace: namespace, options: ListOptions(labelSelector: selector)).items
            }
            objects += items.map { RelatedObject(kind: descriptor.kind, metadata: try? $0["metadata"]?.decode(as: MetaV1.ObjectMeta.self)) }
        }
        return objects
    }

    /// The Events whose involvedObject is one of `objects`, matched by uid as `kubectl describe` does (by kind and
    /// name for an event without one; a name prefix would also match `vectors-prod`'s events for `vectors`), newest
    /// last.
    func events(about objects: [RelatedObject], limit: Int?) async throws -> [CoreV1.Event] {
        let uids = Set(objects.compactMap { $0.metadata?.uid })
        let kindsAndNames = Set(objects.map { "\($0.kind)/\($0.metadata?.name ?? "")" })
        let events = try await call(CoreV1.Event.descriptor, verb: "list") {
            try await client.listAll(CoreV1.Event.self, namespace: namespace).items
        }
        let matching = events.filter { event in
            let object = event.involvedObject
            if let uid = object.uid, !uid.isEmpty { return uids.contains(uid) }
            return kindsAndNames.contains("\(object.kind ?? "")/\(object.name ?? "")")
        }.sorted { ($0.lastTimestamp?.date ?? .distantPast) < ($1.lastTimestamp?.date ?? .distantPast) }
        return limit.map { Array(matching.suffix($0)) } ?? matching
    }

    static func eventRow(_ event: CoreV1.Event) -> [String] {
        [
            timestamp(event.lastTimestamp ?? event.firstTimestamp), event.type ?? "", event.reason ?? "",
            "\(event.involvedObject.kind ?? "")/\(event.involvedObject.name ?? "")", event.message ?? "",
        ]
    }

    /// `kbctl cluster list-events`.
    public func listEvents(of cluster: String) async throws -> String {
        let printer = try printer(.clusterListEvents)
        _ = try await getCluster(cluster)
        let events = try await recentEvents(of: cluster)
        return try await printer.print(try events.map(PrintedObject.init), single: false) { wide in
            if events.isEmpty { return "No events found.\n" }
            var headers = ["TIME", "TYPE", "REASON", "OBJECT", "MESSAGE"]
            if wide { headers += ["SOURCE", "COUNT", "NAME"] }
            let rows = events.map { event in
                Self.eventRow(event)
                    + (wide ? [event.source?.component ?? event.reportingComponent ?? "", String(event.count ?? 1), event.metadata?.name ?? ""] : [])
            }
            return Table(headers: headers, rows: rows).render(width: width)
        }
    }
}
