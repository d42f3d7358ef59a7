import KubeKit

extension OpsRequestSpec {
    /// A planned change of a Replication component's primary (KubeBlocks' `switchover`): the primary is demoted
    /// cleanly, `instanceName` promoted, and the former primary rejoins as its standby.
    public struct Switchover: Codable, Sendable, Hashable, SchemaDescribed {
        /// `instanceName` that lets the operator choose: the standby that received the most WAL.
        public static let mostAdvanced = "*"

        public var componentName: String
        /// The pod to promote (`<cluster>-<component>-<ordinal>`), or `*` for the most advanced standby.
        public var instanceName: String

        public init(componentName: String, instanceName: String) {
            self.componentName = componentName
            self.instanceName = instanceName
        }

        public static let schema = Schema.object(
            [
                "componentName": .dnsLabel(maxLength: 22),
                "instanceName": Schema.string(pattern: #"^(\*|[a-z0-9]([a-z0-9-]*[a-z0-9])?)$"#, minLength: 1, maxLength: 63)
                    .describing("The pod to promote, or * for the standby that received the most WAL."),
            ], required: ["componentName", "instanceName"])
    }
}

extension OpsRequest {
    /// Each switchover names `*` or a pod of its component that the spec keeps (an ordinal below its replicas), in a
    /// component with a standby to promote.
    func validateSwitchover(cluster: Cluster?) -> [FieldError] {
        guard let cluster, let clusterName = cluster.metadata?.name else { return [] }
        var errors: [FieldError] = []
        for (index, switchover) in (spec.switchover ?? []).enumerated() {
            let path = FieldPath("spec").child("switchover").index(index)
            guard let component = cluster.componentSpec(named: switchover.componentName) else { continue }
            let replicas = Int(component.replicas ?? 1)
            if replicas < 2 {
                errors.append(
                    FieldError(
                        field: path.child("componentName").description,
                        message: "Invalid value: \"\(switchover.componentName)\": the component has \(replicas) replica(s) and no standby to promote",
                        fix: "scale the component to 2 or more replicas first"))
                continue
            }
            guard switchover.instanceName != OpsRequestSpec.Switchover.mostAdvanced else { continue }
            let pods = (0..<replicas).map { "\(clusterName)-\(switchover.componentName)-\($0)" }
            if !pods.contains(switchover.instanceName) {
                errors.append(
                    FieldError(
                        field: path.child("instanceName").description,
                        message: "Not found: component \"\(switchover.componentName)\" has no pod \"\(switchover.instanceName)\"",
                        fix: "name one of \(pods.joined(separator: ", ")), or * for the standby that received the most WAL"))
            } else if cluster.status?.components?[switchover.componentName]?.primary == switchover.instanceName {
                errors.append(
                    FieldError(
                        field: path.child("instanceName").description,
                        message: "Invalid value: \"\(switchover.instanceName)\": it is the primary already",
                        fix: "name a standby, or * for the one that received the most WAL"))
            }
        }
        return errors
    }
}
