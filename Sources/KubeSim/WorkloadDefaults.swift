import KubeKit

/// The defaults kube-apiserver fills into apps/v1 workloads on every write (`SetDefaults_StatefulSet`,
/// `SetDefaults_Deployment`); clients such as `kubectl rollout status` read them back.
enum WorkloadDefaults {
    static func apply(_ object: inout JSONValue, resource: APIResource) {
        guard resource.group == "apps", var spec = object["spec"]?.objectValue else { return }
        switch resource.plural {
        case "statefulsets":
            if spec["replicas"] == nil { spec["replicas"] = 1 }
            if spec["podManagementPolicy"] == nil { spec["podManagementPolicy"] = "OrderedReady" }
            if spec["revisionHistoryLimit"] == nil { spec["revisionHistoryLimit"] = 10 }
            var strategy = spec["updateStrategy"]?.objectValue ?? [:]
            if strategy["type"] == nil { strategy["type"] = "RollingUpdate" }
            if strategy["type"] == "RollingUpdate" {
                var rolling = strategy["rollingUpdate"]?.objectValue ?? [:]
                if rolling["partition"] == nil { rolling["partition"] = 0 }
                strategy["rollingUpdate"] = .object(rolling)
            }
            spec["updateStrategy"] = .object(strategy)
            var retention = spec["persistentVolumeClaimRetentionPolicy"]?.objectValue ?? [:]
            for field in ["whenDeleted", "whenScaled"] where retention[field] == nil { retention[field] = "Retain" }
            spec["persistentVolumeClaimRetentionPolicy"] = .object(retention)
        case "deployments":
            if spec["replicas"] == nil { spec["replicas"] = 1 }
            if spec["revisionHistoryLimit"] == nil { spec["revisionHistoryLimit"] = 10 }
            if spec["progressDeadlineSeconds"] == nil { spec["progressDeadlineSeconds"] = 600 }
            var strategy = spec["strategy"]?.objectValue ?? [:]
            if strategy["type"] == nil { strategy["type"] = "RollingUpdate" }
            if strategy["type"] == "RollingUpdate" {
                var rolling = strategy["rollingUpdate"]?.objectValue ?? [:]
                if rolling["maxSurge"] == nil { rolling["maxSurge"] = "25%" }
                if rolling["maxUnavailable"] == nil { rolling["maxUnavailable"] = "25%" }
                strategy["rollingUpdate"] = .object(rolling)
            }
            spec["strategy"] = .object(strategy)
        default:
            return
        }
        object["spec"] = .object(spec)
    }
}
