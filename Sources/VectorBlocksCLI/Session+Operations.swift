import Foundation
import KubeKit
import VectorBlocksAPI

extension Session {
    /// Creates an OpsRequest for a day-2 command, named as kbcli names them (`<cluster>-<type>-<5 random>`).
    public func request(_ type: OpsType, cluster: String, edit: (inout OpsRequestSpec) -> Void = { _ in }) async throws -> OpsRequest {
        let stored = try await getCluster(cluster)
        var spec = OpsRequestSpec(clusterRef: cluster, type: type)
        edit(&spec)
        let ops = OpsRequest(
            metadata: MetaV1.ObjectMeta(name: "\(cluster)-\(type.rawValue.lowercased())-\(Self.suffix())", namespace: namespace), spec: spec)
        // The operator would fail the request; saying so here saves a round trip and names the flag.
        let problems = ops.validate(cluster: stored)
        if !problems.isEmpty { throw CLIError(problems.map(\.description).joined(separator: "\n")) }
        return try await call(OpsRequest.descriptor, verb: "create") { try await client.create(ops) }
    }

    static func suffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<5).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// The components a command acts on: those named, or every component of the Cluster.
    public func components(_ names: [String], of cluster: String) async throws -> [String] {
        let stored = try await getCluster(cluster)
        let known = stored.spec.componentSpecs.map(\.name)
        if names.isEmpty { return known }
        for name in names where !known.contains(name) {
            throw CLIError("--components: cluster \"\(cluster)\" has no component \"\(name)\"; use one of: \(known.joined(separator: ", "))")
        }
        return names
    }

    /// The component a switchover acts on: the one named, or the Cluster's only component.
    public func switchoverComponent(_ name: String?, of cluster: String) async throws -> String {
        if let name { return try await components([name], of: cluster)[0] }
        let known = try await components([], of: cluster)
        guard known.count == 1 else {
            throw CLIError("--component: cluster \"\(cluster)\" has components \(known.joined(separator: ", ")); name the one to switch over")
        }
        return known[0]
    }

    /// Follows a request to its end, calling `report` with each new progress line; returns the final request and
    /// throws when it failed, with its reason.
    public func waitFor(
        _ ops: OpsRequest, timeout: Duration = .seconds(1_800), report: (OpsRequest) -> Void
    ) async throws -> OpsRequest {
        guard let name = ops.metadata?.name else { return ops }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var last: String?
        while clock.now < deadline {
            let current = try await call(OpsRequest.descriptor) {
                try await client.get(OpsRequest.self, name: name, namespace: namespace)
            }
            let line = "\(current.status?.phase?.rawValue ?? "Pending") \(current.status?.progress ?? "-/-")"
            if line != last {
                report(current)
                last = line
            }
            switch current.status?.phase {
            case .succeed, .cancelled: return current
            case .failed:
                let reason = current.status?.conditions?.first { $0.type == "Failed" }?.message ?? "see kbctl cluster list-ops"
                throw CLIError("OpsRequest \(name) failed: \(reason)")
            default: try await Task.sleep(for: .milliseconds(500))
            }
        }
        throw CLIError("OpsRequest \(name) did not finish in \(timeout); it goes on: follow it with kbctl cluster list-ops")
    }

    /// What a day-2 command prints: the OpsRequest it made, in the session's format.
    public func printRequest(_ ops: OpsRequest, for command: KbctlCommand) async throws -> String {
        try await printer(command).print([PrintedObject(ops)], single: true) { _ in "OpsRequest \(ops.metadata?.name ?? "") created\n" }
    }

    /// `kbctl cluster list-ops`: NAME, TYPE, CLUSTER, STATUS, PROGRESS, CREATED-TIME (and with `-o wide` the
    /// components it acts on and its reason when it failed).
    public func listOps(cluster: String?) async throws -> String {
        let printer = try printer(.clusterListOps)
        let requests = try await call(OpsRequest.descriptor, verb: "list") {
            try await client.listAll(OpsRequest.self, namespace: namespace).items
        }.filter { cluster == nil || $0.spec.clusterRef == cluster }
        return try await printer.print(try requests.map(PrintedObject.init), single: false) { wide in
            if requests.isEmpty { return "No OpsRequests found.\n" }
            var headers = ["NAME", "TYPE", "CLUSTER", "STATUS", "PROGRESS", "CREATED-TIME"]
            if wide { headers += ["COMPONENTS", "MESSAGE"] }
            let rows = requests.map { ops in
                var row = [
                    ops.metadata?.name ?? "", ops.spec.type.rawValue, ops.spec.clusterRef, ops.status?.phase?.rawValue ?? "",
                    ops.status?.progress ?? "-/-", Self.timestamp(ops.metadata?.creationTimestamp),
                ]
                if wide {
                    row += [Self.components(of: ops.spec).joined(separator: ","), ops.status?.conditions?.last?.message ?? ""]
                }
                return row
            }
            return Table(headers: headers, rows: rows).render(width: width)
        }
    }

    /// The components a request names, whatever its type.
    static func components(of spec: OpsRequestSpec) -> [String] {
        let named: [[String]?] = [
            spec.horizontalScaling?.map(\.componentName), spec.verticalScaling?.map(\.componentName),
            spec.volumeExpansion?.map(\.componentName), spec.restart?.map(\.componentName), spec.expose?.map(\.componentName),
            spec.switchover?.map(\.componentName),
        ]
        return named.compactMap { $0 }.flatMap { $0 }
    }

    /// `kbctl cluster expose --type vpc|internet`: the AWS NLB annotations of each kind (AWS Load Balancer
    /// Controller); disabling removes the Service of that type and keeps the others.
    public func exposeServices(
        cluster: String, component: String, type: String, enable: Bool, sourceRanges: [String]
    ) async throws -> [ClusterComponentService] {
        guard ["vpc", "internet"].contains(type) else { throw CLIError("--type \"\(type)\" is not vpc or internet") }
        let stored = try await getCluster(cluster)
        var services = (stored.componentSpec(named: component)?.services ?? []).filter { $0.name != type }
        if enable {
            var annotations = [
                "service.beta.kubernetes.io/aws-load-balancer-type": "external",
                "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
                "service.beta.kubernetes.io/aws-load-balancer-scheme": type == "vpc" ? "internal" : "internet-facing",
            ]
            if !sourceRanges.isEmpty { annotations["service.beta.kubernetes.io/load-balancer-source-ranges"] = sourceRanges.joined(separator: ",") }
            services.append(ClusterComponentService(name: type, serviceType: .loadBalancer, annotations: annotations))
        }
        return services
    }
}
