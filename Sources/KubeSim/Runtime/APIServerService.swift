import KubeKit

/// The API server as pods see it, as in a real cluster: the `default/kubernetes` Service on the first address of
/// the Service range, port 443, whose Endpoints are the API server's address on the pod network, and the variables
/// the kubelet puts in every container for it, which in-cluster clients (client-go, KubeKit) read. Published when
/// pods run as processes and the server serves HTTPS (in-cluster clients only speak HTTPS).
struct APIServerService: Sendable, Equatable {
    /// The `kubernetes` Service's ClusterIP.
    var clusterIP: String
    /// The API server's address on the pod network (the bridge's), where the Service's endpoint listens.
    var advertiseAddress: String
    static let servicePort = 443

    init(network: PodNetwork) {
        clusterIP = network.clusterIPPrefix + ".1"
        advertiseAddress = network.gatewayAddress
    }

    init(clusterIP: String, advertiseAddress: String) {
        self.clusterIP = clusterIP
        self.advertiseAddress = advertiseAddress
    }

    /// The names a client may dial the API server by from a pod, for the serving certificate's SANs.
    var certificateNames: [String] {
        [clusterIP, advertiseAddress, "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"]
    }

    /// `KUBERNETES_SERVICE_HOST`, `KUBERNETES_SERVICE_PORT` and the Docker-link variables, as the kubelet writes them.
    var environment: [(String, String)] {
        let port = String(Self.servicePort)
        let url = "tcp://\(clusterIP):\(port)"
        return [
            ("KUBERNETES_SERVICE_HOST", clusterIP), ("KUBERNETES_SERVICE_PORT", port), ("KUBERNETES_SERVICE_PORT_HTTPS", port),
            ("KUBERNETES_PORT", url), ("KUBERNETES_PORT_\(port)_TCP", url), ("KUBERNETES_PORT_\(port)_TCP_PROTO", "tcp"),
            ("KUBERNETES_PORT_\(port)_TCP_PORT", port), ("KUBERNETES_PORT_\(port)_TCP_ADDR", clusterIP),
        ]
    }

    private static let labels: JSONValue = ["component": "apiserver", "provider": "kubernetes"]

    /// The Service, as kube-apiserver's own controller keeps it: no selector, its Endpoints written by the API server.
    var service: JSONValue {
        [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "kubernetes", "namespace": "default", "labels": Self.labels],
            "spec": [
                "type": "ClusterIP", "clusterIP": .string(clusterIP), "sessionAffinity": "None",
                "ports": [["name": "https", "port": .int(Int64(Self.servicePort)), "protocol": "TCP", "targetPort": .int(Int64(Self.servicePort))]],
            ],
        ]
    }

    /// The Endpoints: the API server's advertised address and the port it listens on there.
    func endpoints(port: Int) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": ["name": "kubernetes", "namespace": "default", "labels": ["endpointslice.kubernetes.io/skip-mirror": "true"]],
            "subsets": [["addresses": [["ip": .string(advertiseAddress)]], "ports": [["name": "https", "port": .int(Int64(port)), "protocol": "TCP"]]]],
        ]
    }
}

extension ProcessRuntime {
    /// Publishes the API server listening on `host:port` to pods: the `kubernetes` Service and Endpoints, and a
    /// listener on the advertised address (the bridge's) that forwards to the API server, which listens on `host`.
    func publishAPIServer(host: String, port: Int) async throws(PodRuntimeError) {
        guard let apiServer else { return }
        // A server listening on every address already listens on the bridge's.
        if !["0.0.0.0", "::", apiServer.advertiseAddress].contains(host) {
            do {
                try await proxy.forward(from: apiServer.advertiseAddress, port: port, to: host, port: port)
            } catch {
                throw PodRuntimeError.hostCommandFailed("the API server's listener on \(apiServer.advertiseAddress):\(port)", "\(error)")
            }
        }
        guard let services = await store.resource(.services), let endpoints = await store.resource(.endpoints) else { return }
        let context = WriteContext(manager: "kube-apiserver", dryRun: false)
        do {
            _ = try await store.create(services, namespace: "default", body: apiServer.service, context: context)
            _ = try await store.create(endpoints, namespace: "default", body: apiServer.endpoints(port: port), context: context)
        } catch {
            throw PodRuntimeError.hostCommandFailed("creating the default/kubernetes Service and Endpoints", "\(error)")
        }
    }
}
