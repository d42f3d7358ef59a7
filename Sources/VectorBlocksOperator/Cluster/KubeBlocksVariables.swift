import KubeKit

/// The `KB_*` variables KubeBlocks 0.6/0.7 gives every pod, beside our `VB_*` ones, so that a KubeBlocks definition
/// converted by its apiVersion runs its own scripts unchanged: per pod from the downward API and the Cluster, and
/// per component in the env ConfigMap.
enum KubeBlocksVariables {
    /// KubeBlocks' order: `KB_POD_FQDN` refers to `KB_POD_NAME` and `KB_NAMESPACE`, and a `$(VAR)` reference only
    /// resolves to a variable defined earlier in the list.
    static func podEnvironment(names: ClusterNames, component: String, clusterUID: String) -> [CoreV1.EnvVar] {
        let downward = [
            ("KB_POD_NAME", "metadata.name"), ("KB_POD_UID", "metadata.uid"), ("KB_NAMESPACE", "metadata.namespace"),
            ("KB_SA_NAME", "spec.serviceAccountName"), ("KB_NODENAME", "spec.nodeName"),
            ("KB_HOST_IP", "status.hostIP"), ("KB_POD_IP", "status.podIP"), ("KB_POD_IPS", "status.podIPs"),
            // KubeBlocks' older spellings, which 0.7 still sets and older scripts read.
            ("KB_HOSTIP", "status.hostIP"), ("KB_PODIP", "status.podIP"), ("KB_PODIPS", "status.podIPs"),
        ].map { name, path in
            CoreV1.EnvVar(name: name, valueFrom: CoreV1.EnvVarSource(fieldRef: CoreV1.ObjectFieldSelector(apiVersion: "v1", fieldPath: path)))
        }
        let workload = names.workload(component)
        let fixed = [
            ("KB_CLUSTER_NAME", names.cluster), ("KB_COMP_NAME", component), ("KB_CLUSTER_COMP_NAME", workload),
            ("KB_CLUSTER_UID_POSTFIX_8", String(clusterUID.suffix(8))),
            ("KB_POD_FQDN", "$(KB_POD_NAME).\(names.headlessService(component)).$(KB_NAMESPACE).svc"),
        ].map { CoreV1.EnvVar(name: $0.0, value: $0.1) }
        return downward + fixed
    }

    /// The component's entries of the env ConfigMap, each also under `KB_<COMPDEF>_` as 0.6 named them (with its
    /// `KB_<COMPDEF>_N` for the replica count).
    static func componentEntries(
        names: ClusterNames, component: String, componentDef: String, replicas: Int32, clusterUID: String
    ) -> [String: String] {
        var entries = ["REPLICA_COUNT": String(replicas), "CLUSTER_UID": clusterUID]
        for ordinal in 0..<Int(max(replicas, 0)) {
            entries["\(ordinal)_HOSTNAME"] = "\(names.pod(component, ordinal: ordinal)).\(names.headlessService(component))"
        }
        let definitionPrefix = "KB_\(ClusterNames.environmentName(componentDef))_"
        var variables: [String: String] = [definitionPrefix + "N": String(replicas)]
        for (key, value) in entries {
            variables["KB_" + key] = value
            variables[definitionPrefix + key] = value
        }
        return variables
    }
}
