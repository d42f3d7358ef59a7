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
// | `ClusterStore*.swift`, `ControllerIndex.swift` | the store actor: objects, the single resourceVersion counter, history, watches (a slow HTTP watch closed past its backlog limit), writes, deletion, GC, namespaces, CRDs; pods indexed by controller |
// | `MergePatch.swift`, `JSONPatch.swift`, `StrategicMergePatch.swift`, `ServerSideApply.swift` | patch kinds |
// | `FieldSet.swift`, `ManagedFields.swift`, `SchemaNavigator.swift` | FieldsV1 ownership and list-map keys from the schemas |
// | `Selectors.swift`, `ObjectMeta.swift`, `ServiceDefaults.swift` | selectors, metadata helpers and name rules, Service allocation |
// | `WorkloadDefaults.swift` | apps/v1 defaults on every write |
// | `Faults/` | fault injection (`FaultInjection`, the seeded `FaultInjector`) as a wrapper around the responder |
// | `Workloads/` | the simulated control plane, on when `KubeSimConfiguration.workloads` is set: `ControlLoop` (level-triggered passes after store watches, handed the objects that changed: `StoreChanges`; `LabelIndex` and `SelectorIndex` find the pods a Service selects and the Services a pod's labels concern; `Delays` holds what waits on a delay), `Kubelet` (scheduling, pod status, graceful removal, the test controls in `KubeSimServer+Pods`), `StatefulSetController`, `DeploymentController`, `EndpointsController`, `LoadBalancerController`, `PersistentVolumeClaimController` |
// | `SwaggerDecoder.swift`, `BuiltinValidation.swift`, `GoSyntax.swift` | built-in kinds decoded against the swagger (type errors, `fieldValidation` for unknown fields, pruning), Go-worded messages |
// | `Validation/` | kube-apiserver's validation of built-in kinds, one file per kind family (`BuiltinKindValidation` dispatches): `FieldErrors` (causes worded as `field.Error`), `ValueFormats` (DNS-1123, qualified names, label values, IANA port names, config keys, percentages), `Enumerations` (values read from `Resources/enumerations.json`, which `kube-model-gen enums` extracts from the reference swagger), `IntOrPercent`, metadata and selectors, pod specs, Services, workloads, PDBs, HPAs, ConfigMaps and Secrets, PVCs (a request never below capacity), RBAC, Leases and Events |
// | `ImmutableFields.swift` | fields an update may not change (StatefulSet spec, Service cluster IPs, Deployment selector, PVC spec, immutable ConfigMaps and Secrets) |
// | `Authentication.swift`, `Authorization.swift` | users from tokens and service-account tokens (TokenRequest), RBAC over the stored roles and bindings |
//
// The simulated controllers write through `ClusterStore` as clients do (so they see validation, but neither the
// injected faults nor RBAC); pods are deleted gracefully only while a kubelet runs to remove them.
