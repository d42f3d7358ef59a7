// KubeSim — overview (see also DESIGN.md §6).
//
// # KubeSim
//
// An in-memory Kubernetes API server (DESIGN.md §6). One file per concept:
//
// | file | concept |
// |---|---|
// | `KubeSimServer.swift`, `KubeSimConfiguration.swift` | public API: start/stop, kubeconfig, request counts; Hummingbird `Application` in a `ServiceGroup` |
// | `TLSIdentity.swift` | optional self-signed HTTPS (kubectl only sends tokens over TLS) |
// | `KubeSimResponder.swift` | authentication, request accounting, discovery routing, `Status` rendering |
// | `APIRequestInfo.swift` | URL path → what it addresses (like kube-apiserver's RequestInfo); query parsing |
// | `ResourceHandler.swift`, `ScaleHandler.swift` | verbs on resources: get/list/watch/create/update/patch/delete/deletecollection, `scale` |
// | `Swagger.swift`, `ResourceRegistry.swift`, `APIResource.swift` | built-in resources read from the bundled swagger `paths`; CRD versions added/removed at run time |
// | `Discovery.swift`, `OpenAPIV3.swift`, `TableConverter.swift` | `/version`, `/api`, `/apis`, resource lists, `/openapi/v3`, `as=Table` output |
// | `ClusterStore*.swift` | the store actor: objects, the single resourceVersion counter, history, watches, writes, deletion, GC, namespaces, CRDs |
// | `MergePatch.swift`, `JSONPatch.swift`, `StrategicMergePatch.swift`, `ServerSideApply.swift` | patch kinds |
// | `FieldSet.swift`, `ManagedFields.swift`, `SchemaNavigator.swift` | FieldsV1 ownership and list-map keys from the schemas |
// | `Selectors.swift`, `ObjectMeta.swift`, `ServiceDefaults.swift` | selectors, metadata helpers and name rules, Service allocation |
// | `WorkloadDefaults.swift`, `PersistentVolumeClaimValidation.swift` | apps/v1 defaults on every write; a claim's request never below its capacity |
// | `Faults/` | fault injection (`FaultInjection`, the seeded `FaultInjector`) as a wrapper around the responder |
// | `Workloads/` | the simulated control plane, on when `KubeSimConfiguration.workloads` is set: `ControlLoop` (level-triggered passes after store watches), `Kubelet` (scheduling, pod status, graceful removal, the test controls in `KubeSimServer+Pods`), `StatefulSetController`, `DeploymentController`, `EndpointsController`, `LoadBalancerController`, `PersistentVolumeClaimController` |
//
// Where later work slots in: schema validation and immutable fields in `ClusterStore.checkedBody`/`merged` (the
// `SchemaNavigator` already resolves swagger and CRD schemas); RBAC next to `authenticate` in the responder (the token
// map already yields a user name). The simulated controllers write through `ClusterStore` as clients do (so they see
// validation, but not the injected faults); pods are deleted gracefully only while a kubelet runs to remove them.
