/// The definitions the operator works with. Generation emits these and everything they reference, transitively;
/// add a definition here and regenerate to get its model.
public enum ModelRoots {
    public static let definitions: [String] = [
        // core/v1
        "io.k8s.api.core.v1.Pod",
        "io.k8s.api.core.v1.Service",
        "io.k8s.api.core.v1.Endpoints",
        "io.k8s.api.core.v1.Secret",
        "io.k8s.api.core.v1.ConfigMap",
        "io.k8s.api.core.v1.PersistentVolumeClaim",
        "io.k8s.api.core.v1.Namespace",
        "io.k8s.api.core.v1.ServiceAccount",
        "io.k8s.api.core.v1.Event",
        // apps/v1
        "io.k8s.api.apps.v1.StatefulSet",
        "io.k8s.api.apps.v1.Deployment",
        // policy/v1
        "io.k8s.api.policy.v1.PodDisruptionBudget",
        // autoscaling/v2
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
        // coordination.k8s.io/v1
        "io.k8s.api.coordination.v1.Lease",
        // events.k8s.io/v1
        "io.k8s.api.events.v1.Event",
        // rbac.authorization.k8s.io/v1
        "io.k8s.api.rbac.v1.Role",
        "io.k8s.api.rbac.v1.ClusterRole",
        "io.k8s.api.rbac.v1.RoleBinding",
        "io.k8s.api.rbac.v1.ClusterRoleBinding",
        // networking.k8s.io/v1
        "io.k8s.api.networking.v1.NetworkPolicy",
        // apiextensions.k8s.io/v1
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
        // meta/v1: object metadata, API answers and request bodies
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Condition",
        "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
        "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList",
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup",
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions",
        // the answer to /version
        "io.k8s.apimachinery.pkg.version.Info",
    ]
}
