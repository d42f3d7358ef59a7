import KubeKit
import VectorBlocksAPI

/// A component's pod spec: the definition's podSpec with the version's images merged by container name, the
/// component's resources on the main (first) container, the env ConfigMap loaded into every container beside
/// KubeBlocks' per-pod `KB_*` variables, the credential Secret's name filled in, the rendered config and script ConfigMaps mounted, and the Cluster's
/// scheduling shorthand turned into affinity and tolerations. Every field of the definition's podSpec is kept.
enum PodTemplateBuilder {
    static let credentialSecretPlaceholder = "$(CONN_CREDENTIAL_SECRET_NAME)"

    static func podSpec(
        cluster: Cluster, component: ClusterComponentSpec, componentDef: ClusterComponentDefinition,
        version: ClusterComponentVersion?, names: ClusterNames
    ) -> CoreV1.PodSpec {
        var spec = componentDef.podSpec ?? CoreV1.PodSpec(containers: [])
        spec.containers = merge(spec.containers, with: version?.versionsContext.containers ?? [])
        if let initContainers = spec.initContainers {
            spec.initContainers = merge(initContainers, with: version?.versionsContext.initContainers ?? [])
        }
        if let resources = component.resources, !spec.containers.isEmpty {
            spec.containers[0].resources = resources
        }
        let environment = CoreV1.EnvFromSource(
            configMapRef: CoreV1.ConfigMapEnvSource(name: names.environmentConfigMap(component.name), optional: false))
        let kubeBlocks = KubeBlocksVariables.podEnvironment(
            names: names, component: component.name, clusterUID: cluster.metadata?.uid ?? "")
        spec.containers = spec.containers.map { prepared($0, environment: environment, kubeBlocks: kubeBlocks, names: names) }
        spec.initContainers = spec.initContainers?.map {
            prepared($0, environment: environment, kubeBlocks: kubeBlocks, names: names)
        }

        var volumes = spec.volumes ?? []
        for template in (componentDef.configSpecs ?? []) + (componentDef.scriptSpecs ?? [])
        where !volumes.contains(where: { $0.name == template.volumeName }) {
            volumes.append(
                CoreV1.Volume(
                    configMap: CoreV1.ConfigMapVolumeSource(
                        defaultMode: template.defaultMode, name: names.templateConfigMap(component.name, spec: template.name)),
                    name: template.volumeName))
        }
        spec.volumes = volumes.isEmpty ? nil : volumes

        let shorthand = component.affinity ?? cluster.spec.affinity
        if let shorthand {
            spec.affinity = affinity(shorthand, base: spec.affinity, selector: names.componentSelector(component.name))
        }
        let tolerations = (spec.tolerations ?? []) + (cluster.spec.tolerations ?? []) + (component.tolerations ?? [])
        spec.tolerations = tolerations.isEmpty ? nil : tolerations
        if let account = component.serviceAccountName {
            spec.serviceAccountName = account
        }
        return spec
    }

    /// The version gives images (and may give commands, args and env) for containers the definition names.
    static func merge(_ containers: [CoreV1.Container], with versions: [CoreV1.Container]) -> [CoreV1.Container] {
        containers.map { container in
            guard let version = versions.first(where: { $0.name == container.name }) else { return container }
            var merged = container
            merged.image = version.image ?? merged.image
            merged.imagePullPolicy = version.imagePullPolicy ?? merged.imagePullPolicy
            merged.command = version.command ?? merged.command
            merged.args = version.args ?? merged.args
            if let env = version.env {
                let overridden = Set(env.map(\.name))
                merged.env = (merged.env ?? []).filter { !overridden.contains($0.name) } + env
            }
            return merged
        }
    }

    private static func prepared(
        _ container: CoreV1.Container, environment: CoreV1.EnvFromSource, kubeBlocks: [CoreV1.EnvVar], names: ClusterNames
    ) -> CoreV1.Container {
        var copy = container
        // First, so the container's own envFrom and env win over the component's variables.
        copy.envFrom = [environment] + (copy.envFrom ?? [])
        // Ahead of the container's own variables, so those can refer to ours as $(KB_POD_NAME); a name the
        // definition sets itself is left out, so the definition's value wins rather than being repeated.
        let own = Set((copy.env ?? []).map(\.name))
        copy.env =
            kubeBlocks.filter { !own.contains($0.name) }
            + (copy.env ?? []).map { variable in
                var variable = variable
                if variable.valueFrom?.secretKeyRef?.name == credentialSecretPlaceholder {
                    variable.valueFrom?.secretKeyRef?.name = names.credentialSecret
                }
                return variable
            }
        copy.envFrom = copy.envFrom?.map { source in
            var source = source
            if source.secretRef?.name == credentialSecretPlaceholder { source.secretRef?.name = names.credentialSecret }
            return source
        }
        return copy
    }

    /// KubeBlocks' shorthand as Kubernetes affinity: anti-affinity between the component's pods over each topology
    /// key (preferred or required), node labels as required node affinity, and a dedicated node as required
    /// anti-affinity against every pod of any cluster.
    static func affinity(_ shorthand: Affinity, base: CoreV1.Affinity?, selector: [String: String]) -> CoreV1.Affinity {
        var result = base ?? CoreV1.Affinity()
        let ownPods = MetaV1.LabelSelector(matchLabels: selector)
        var antiAffinity = result.podAntiAffinity ?? CoreV1.PodAntiAffinity()
        for key in shorthand.topologyKeys ?? [] {
            let term = CoreV1.PodAffinityTerm(labelSelector: ownPods, topologyKey: key)
            if shorthand.podAntiAffinity == .required {
                antiAffinity.requiredDuringSchedulingIgnoredDuringExecution =
                    (antiAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? []) + [term]
            } else {
                antiAffinity.preferredDuringSchedulingIgnoredDuringExecution =
                    (antiAffinity.preferredDuringSchedulingIgnoredDuringExecution ?? [])
                    + [CoreV1.WeightedPodAffinityTerm(podAffinityTerm: term, weight: 100)]
            }
        }
        if shorthand.tenancy == .dedicatedNode {
            let anyCluster = MetaV1.LabelSelector(matchExpressions: [
                MetaV1.LabelSelectorRequirement(key: ClusterNames.instanceLabel, operator: "Exists")
            ])
            antiAffinity.requiredDuringSchedulingIgnoredDuringExecution =
                (antiAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? [])
                + [CoreV1.PodAffinityTerm(labelSelector: anyCluster, topologyKey: "kubernetes.io/hostname")]
        }
        if antiAffinity != CoreV1.PodAntiAffinity() { result.podAntiAffinity = antiAffinity }
        if let nodeLabels = shorthand.nodeLabels, !nodeLabels.isEmpty {
            let requirements = nodeLabels.sorted { $0.key < $1.key }.map {
                CoreV1.NodeSelectorRequirement(key: $0.key, operator: "In", values: [$0.value])
            }
            var nodeAffinity = result.nodeAffinity ?? CoreV1.NodeAffinity()
            var selector = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? CoreV1.NodeSelector(nodeSelectorTerms: [])
            if selector.nodeSelectorTerms.isEmpty {
                selector.nodeSelectorTerms = [CoreV1.NodeSelectorTerm(matchExpressions: requirements)]
            } else {
                // Terms are ORed; the labels must hold whichever term matches.
                selector.nodeSelectorTerms = selector.nodeSelectorTerms.map { term in
                    var term = term
                    term.matchExpressions = (term.matchExpressions ?? []) + requirements
                    return term
                }
            }
            nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = selector
            result.nodeAffinity = nodeAffinity
        }
        return result
    }
}
