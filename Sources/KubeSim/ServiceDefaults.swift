import KubeKit

/// Hands out Service cluster IPs (10.96.0.0/12, from 10.96.0.10) and node ports (30000-32767) in order.
struct ServiceAddressAllocator: Sendable {
    private var nextHost: UInt32 = 10
    private var nextNodePort: Int64 = 30000
    /// When pods run as processes, ClusterIPs are real addresses on the host: each server takes them from its own
    /// /24 (`a.b.c`, hosts .10-.253), so that servers side by side never share one.
    var clusterIPPrefix: String?

    mutating func clusterIP() -> String {
        let host = nextHost
        nextHost += 1
        if let clusterIPPrefix { return "\(clusterIPPrefix).\((host - 10) % 244 + 10)" }
        return "10.\(96 + (host >> 16) & 0x0F).\((host >> 8) & 0xFF).\(host & 0xFF)"
    }

    mutating func nodePort() -> Int64 {
        let port = nextNodePort
        nextNodePort = nextNodePort >= 32767 ? 30000 : nextNodePort + 1
        return port
    }
}

/// The defaults and allocations kube-apiserver applies to Services.
enum ServiceDefaults {
    static func applyOnCreate(_ service: inout JSONValue, allocator: inout ServiceAddressAllocator) {
        var spec = service["spec"]?.objectValue ?? [:]
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        spec["type"] = .string(type)
        if spec["sessionAffinity"] == nil { spec["sessionAffinity"] = "None" }
        if type != "ExternalName" {
            if spec["clusterIP"]?.stringValue?.isEmpty ?? true {
                spec["clusterIP"] = .string(allocator.clusterIP())
            }
            if spec["clusterIPs"] == nil, let clusterIP = spec["clusterIP"] { spec["clusterIPs"] = [clusterIP] }
            if spec["ipFamilies"] == nil { spec["ipFamilies"] = ["IPv4"] }
            if spec["ipFamilyPolicy"] == nil { spec["ipFamilyPolicy"] = "SingleStack" }
            if spec["internalTrafficPolicy"] == nil { spec["internalTrafficPolicy"] = "Cluster" }
        }
        if type == "NodePort" || type == "LoadBalancer", spec["externalTrafficPolicy"] == nil {
            spec["externalTrafficPolicy"] = "Cluster"
        }
        if let ports = spec["ports"]?.arrayValue {
            spec["ports"] = .array(
                ports.map { port in
                    var port = port
                    if port["protocol"] == nil { port["protocol"] = "TCP" }
                    if port["targetPort"] == nil || port["targetPort"] == 0 || port["targetPort"] == "", let number = port["port"] {
                        port["targetPort"] = number
                    }
                    if type == "NodePort" || type == "LoadBalancer", port["nodePort"] == nil {
                        port["nodePort"] = .int(allocator.nodePort())
                    }
                    return port
                })
        }
        service["spec"] = .object(spec)
        if service["status"] == nil { service["status"] = ["loadBalancer": .object([:])] }
    }

    /// An update that leaves out allocated values keeps them, as the real server does.
    static func keepAllocated(_ service: inout JSONValue, from old: JSONValue) {
        for field in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
            if service["spec"]?[field] == nil || service["spec"]?[field] == "" {
                service["spec"]?[field] = old["spec"]?[field]
            }
        }
        guard let ports = service["spec"]?["ports"]?.arrayValue, let oldPorts = old["spec"]?["ports"]?.arrayValue else { return }
        service["spec"]?["ports"] = .array(
            ports.map { port in
                var port = port
                if port["nodePort"] == nil,
                    let match = oldPorts.first(where: { $0["port"] == port["port"] && ($0["protocol"] ?? "TCP") == (port["protocol"] ?? "TCP") }),
                    let nodePort = match["nodePort"]
                {
                    port["nodePort"] = nodePort
                }
                return port
            })
    }
}
