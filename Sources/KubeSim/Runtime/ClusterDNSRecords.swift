import KubeKit

/// What cluster DNS answers, from Services, Endpoints and Pods as they stand (the records CoreDNS's kubernetes plugin
/// serves): `svc.ns.svc.cluster.local` is the ClusterIP, or for a headless Service its endpoints' addresses (ready
/// ones; all with `publishNotReadyAddresses`); `hostname.subdomain.ns.svc.cluster.local` is the pod with that
/// hostname and subdomain, when its headless Service exists.
enum ClusterDNSRecords {
    static let domain = "cluster.local"

    /// The addresses of a name; nil when the name does not exist (NXDOMAIN), empty when it exists with none.
    static func resolve(_ name: String, services: [JSONValue], endpoints: [JSONValue], pods: [JSONValue]) -> [String]? {
        let suffix = ".svc." + domain
        guard name.hasSuffix(suffix) else { return nil }
        let labels = name.dropLast(suffix.count).split(separator: ".").map(String.init)
        switch labels.count {
        case 2:
            let (serviceName, namespace) = (labels[0], labels[1])
            guard let service = services.first(where: { $0.metadataName == serviceName && $0.metadataNamespace == namespace }) else { return nil }
            if let clusterIP = service["spec"]?["clusterIP"]?.stringValue, clusterIP != "None", !clusterIP.isEmpty { return [clusterIP] }
            let publishAll = service["spec"]?["publishNotReadyAddresses"]?.boolValue == true
            let endpoint = endpoints.first { $0.metadataName == serviceName && $0.metadataNamespace == namespace }
            var addresses: [String] = []
            for subset in endpoint?["subsets"]?.arrayValue ?? [] {
                let fields = publishAll ? ["addresses", "notReadyAddresses"] : ["addresses"]
                for field in fields {
                    addresses += (subset[field]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }
                }
            }
            return Array(Set(addresses)).sorted()
        case 3:
            let (hostname, subdomain, namespace) = (labels[0], labels[1], labels[2])
            guard services.contains(where: { $0.metadataName == subdomain && $0.metadataNamespace == namespace }) else { return nil }
            let pod = pods.first { pod in
                pod.metadataNamespace == namespace && pod["spec"]?["subdomain"]?.stringValue == subdomain
                    && (pod["spec"]?["hostname"]?.stringValue ?? pod.metadataName) == hostname && !pod.isBeingDeleted
            }
            guard let pod, let ip = pod["status"]?["podIP"]?.stringValue else { return nil }
            return [ip]
        default:
            return nil
        }
    }
}
