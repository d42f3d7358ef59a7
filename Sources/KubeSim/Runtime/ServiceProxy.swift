import Foundation
import KubeKit
import NIOCore
import NIOPosix

/// kube-proxy in userspace for pods that run as processes: each Service's ClusterIP is an address on the server's
/// bridge (so pods and the host reach it), a LoadBalancer Service also gets an ingress IP there, and a listener on
/// every Service port forwards each TCP connection to one of the Service's ready endpoints, in turn.
actor ServiceProxy: SimulatedController {
    let store: ClusterStore
    let network: PodNetwork
    private var listeners: [String: any Channel] = [:]
    /// Fixed forwards that are not Services (the API server's listener on the pod network).
    private var forwards: [any Channel] = []
    private var addresses: Set<String> = []
    private var nextBackend = 0

    let watched: [StorageKey] = [.services, .endpoints]

    init(store: ClusterStore, network: PodNetwork) {
        self.store = store
        self.network = network
    }

    /// A LoadBalancer Service's ingress address: its ClusterIP's host number in the network's load-balancer range.
    nonisolated func loadBalancerIP(for clusterIP: String) -> String? {
        guard let host = clusterIP.split(separator: ".").last else { return nil }
        return "\(network.loadBalancerPrefix).\(host)"
    }

    func reconcile(_: StoreChanges) async -> Duration? {
        var wanted: [String: (service: ObjectName, port: JSONValue)] = [:]
        let services = await store.stored(.services)
        for service in services where !service.isBeingDeleted {
            guard let clusterIP = service["spec"]?["clusterIP"]?.stringValue, clusterIP.hasPrefix(network.clusterIPPrefix + "."),
                let name = service.metadataName, let namespace = service.metadataNamespace
            else { continue }
            var ips = [clusterIP]
            if service["spec"]?["type"]?.stringValue == "LoadBalancer", let ingress = loadBalancerIP(for: clusterIP) {
                ips.append(ingress)
                await publishIngress(service, ip: ingress)
            }
            for port in service["spec"]?["ports"]?.arrayValue ?? [] where (port["protocol"]?.stringValue ?? "TCP") == "TCP" {
                guard let number = port["port"]?.intValue else { continue }
                for ip in ips { wanted["\(ip):\(number)"] = (ObjectName(namespace: namespace, name: name), port) }
            }
        }
        for (key, channel) in listeners where wanted[key] == nil {
            try? await channel.close()
            listeners[key] = nil
        }
        let wantedAddresses = Set(wanted.keys.compactMap { $0.split(separator: ":").first.map(String.init) })
        for address in addresses.subtracting(wantedAddresses) {
            _ = try? await HostCommand("ip", "addr", "del", "\(address)/32", "dev", network.prefix).run()
            addresses.remove(address)
        }
        for address in wantedAddresses.subtracting(addresses) {
            if (try? await HostCommand("ip", "addr", "add", "\(address)/32", "dev", network.prefix).run()) != nil { addresses.insert(address) }
        }
        for (key, target) in wanted where listeners[key] == nil {
            let parts = key.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]) else { continue }
            listeners[key] = try? await listen(host: String(parts[0]), port: port, service: target.service, servicePort: target.port)
        }
        return nil
    }

    private func publishIngress(_ service: JSONValue, ip: String) async {
        let ingress = service["status"]?["loadBalancer"]?["ingress"]?.arrayValue ?? []
        guard ingress.count != 1 || ingress.first?["ip"]?.stringValue != ip,
            let services = await ControllerClient(store: store, key: .services, manager: "service-controller")
        else { return }
        var status = service["status"] ?? [:]
        status["loadBalancer"] = ["ingress": [["ip": .string(ip), "ipMode": "VIP"]]]
        await services.updateStatus(of: service, to: status)
    }

    private func listen(host: String, port: Int, service: ObjectName, servicePort: JSONValue) async throws -> any Channel {
        try await listen(host: host, port: port) { [self] in await self.pickEndpoint(service: service, servicePort: servicePort) }
    }

    /// Forwards every TCP connection to `host:port` on to `target:targetPort`, until the proxy stops.
    func forward(from host: String, port: Int, to target: String, port targetPort: Int) async throws {
        forwards.append(try await listen(host: host, port: port) { "\(target):\(targetPort)" })
    }

    private func listen(host: String, port: Int, pick: @escaping @Sendable () async -> String?) async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                inbound.eventLoop.makeCompletedFuture { try inbound.pipeline.syncOperations.addHandler(ServiceConnection(pick: pick)) }
            }
            .bind(host: host, port: port).get()
    }

    /// A ready endpoint of the Service for this port (`ip:port`), the next in turn; nil when it has none.
    func pickEndpoint(service: ObjectName, servicePort: JSONValue) async -> String? {
        guard let endpoints = await store.stored(.endpoints, namespace: service.namespace).first(where: { $0.metadataName == service.name }) else { return nil }
        let portName = servicePort["name"]?.stringValue
        var targets: [String] = []
        for subset in endpoints["subsets"]?.arrayValue ?? [] {
            let ports = subset["ports"]?.arrayValue ?? []
            guard let port = ports.first(where: { portName == nil || $0["name"]?.stringValue == portName })?["port"]?.intValue ?? ports.first?["port"]?.intValue
            else { continue }
            targets += (subset["addresses"]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue.map { "\($0):\(port)" } }
        }
        guard !targets.isEmpty else { return nil }
        nextBackend += 1
        return targets.sorted()[nextBackend % targets.count]
    }

    func stop() async {
        for channel in Array(listeners.values) + forwards { try? await channel.close() }
        forwards = []
        listeners = [:]
        for address in addresses { _ = try? await HostCommand("ip", "addr", "del", "\(address)/32", "dev", network.prefix).run() }
        addresses = []
    }
}

/// One client connection to a Service: once active, it picks an endpoint, connects to it, and glues the two
/// connections together (reading from the client only then, so nothing is read before there is somewhere to send it).
private final class ServiceConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    let pick: @Sendable () async -> String?

    init(pick: @escaping @Sendable () async -> String?) { self.pick = pick }

    func channelActive(context: ChannelHandlerContext) {
        let inbound = context.channel
        let loop = context.eventLoop
        let chosen = loop.makePromise(of: String?.self)
        chosen.completeWithTask(pick)
        chosen.futureResult.flatMap { target -> EventLoopFuture<any Channel> in
            guard let target, let colon = target.lastIndex(of: ":"), let port = Int(target[target.index(after: colon)...]) else {
                return loop.makeFailedFuture(ChannelError.connectPending)
            }
            return ClientBootstrap(group: loop).connectTimeout(.seconds(5)).connect(host: String(target[..<colon]), port: port)
        }.whenComplete { result in
            switch result {
            case .success(let outbound):
                let (ours, theirs) = TCPGlue.matchedPair()
                do {
                    try inbound.pipeline.syncOperations.addHandler(ours)
                    try outbound.pipeline.syncOperations.addHandler(theirs)
                    // From here the glue paces reading: it passes a read on only while the other side can write.
                    try inbound.syncOptions?.setOption(.autoRead, value: true)
                } catch {
                    inbound.close(promise: nil)
                    outbound.close(promise: nil)
                }
            case .failure:
                inbound.close(promise: nil)
            }
        }
        context.fireChannelActive()
    }
}
