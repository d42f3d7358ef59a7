import KubeKit
import VectorBlocksAPI

/// What the operator may do through the API, and no more: every resource its controllers read or write, with the
/// verbs they use. No wildcards, so a new resource or verb is a visible change here.
public enum OperatorPermissions {
    private static let readWrite = ["get", "list", "watch", "update", "patch"]
    private static let owned = ["get", "list", "watch", "create", "update", "patch", "delete"]
    private static let recordEvents = ["create", "patch"]

    /// Granted in every namespace (the ClusterRole): the custom resources, and the objects the operator makes of
    /// them in the Clusters' namespaces.
    public static let clusterRules: [RbacV1.PolicyRule] = {
        let kinds = ["clusters", "clusterdefinitions", "clusterversions", "opsrequests", "vectorpipelines"]
        return [
            // The users create the custom resources; the operator only adds finalizers and its status.
            RbacV1.PolicyRule(apiGroups: [VectorBlocksAPI.group], resources: kinds, verbs: readWrite),
            // Backups: the schedule creates them, retention and a WipeOut Cluster delete them.
            RbacV1.PolicyRule(apiGroups: [VectorBlocksAPI.group], resources: ["backups"], verbs: owned),
            RbacV1.PolicyRule(apiGroups: [VectorBlocksAPI.group], resources: ["backups/status"], verbs: ["get", "update", "patch"]),
            RbacV1.PolicyRule(apiGroups: [VectorBlocksAPI.group], resources: kinds.map { "\($0)/status" }, verbs: ["get", "update", "patch"]),
            // Needed to set blockOwnerDeletion on objects owned by a Cluster, an OpsRequest, a VectorPipeline or a Backup.
            RbacV1.PolicyRule(
                apiGroups: [VectorBlocksAPI.group],
                resources: ["clusters/finalizers", "opsrequests/finalizers", "vectorpipelines/finalizers", "backups/finalizers"], verbs: ["update"]),
            // Secrets: the Clusters' credentials, and the pipelines' Secrets read for their source's state.
            RbacV1.PolicyRule(apiGroups: [""], resources: ["secrets", "configmaps", "services", "persistentvolumeclaims"], verbs: owned),
            // Each VectorPipeline's workers run as a ServiceAccount of their own, with no API token.
            RbacV1.PolicyRule(apiGroups: [""], resources: ["serviceaccounts"], verbs: owned),
            // The StatefulSet controller makes the pods; the operator labels their roles and deletes them to restart.
            RbacV1.PolicyRule(apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "patch", "delete"]),
            RbacV1.PolicyRule(apiGroups: [""], resources: ["events"], verbs: recordEvents),
            RbacV1.PolicyRule(apiGroups: [""], resources: ["endpoints"], verbs: ["get", "list", "watch"]),
            RbacV1.PolicyRule(apiGroups: ["apps"], resources: ["statefulsets", "deployments"], verbs: owned),
            RbacV1.PolicyRule(apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: owned),
            // A VectorPipeline with `scaling.mode: CPU` scales Emu with an HPA.
            RbacV1.PolicyRule(apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: owned),
            RbacV1.PolicyRule(apiGroups: ["events.k8s.io"], resources: ["events"], verbs: recordEvents),
            // A pgvector Backup runs as a Job next to the data; the operator makes it and reads how it ended.
            RbacV1.PolicyRule(apiGroups: ["batch"], resources: ["jobs"], verbs: ["get", "list", "watch", "create", "delete"]),
        ]
    }()

    /// Granted only in the operator's own namespace (a Role): the leader election Lease lives there, and a Lease
    /// anywhere else is none of the operator's business.
    public static let namespaceRules: [RbacV1.PolicyRule] = [
        RbacV1.PolicyRule(
            apiGroups: ["coordination.k8s.io"], resources: ["leases"],
            verbs: ["get", "list", "watch", "create", "update", "patch"])
    ]
}
