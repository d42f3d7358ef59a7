import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The pod network of one server: a bridge `vbk<N>` with the gateway address of 10.<100+N/256>.<N%256>.0/24, and for
/// each pod a network namespace `vbk<N>-<pod>` joined to the bridge by a veth pair (`vbk<N>h<pod>` on the host,
/// `eth0` inside). N is claimed with an owner file, so servers in one process or many get distinct bridges and
/// ranges; everything is named with the `vbk<N>` prefix, so a later server can remove what a crashed one left.
actor PodNetwork {
    struct Sandbox: Sendable, Equatable {
        var namespace: String
        var hostLink: String
        var address: String
        var namespacePath: String { "/run/netns/" + namespace }
    }

    let index: Int
    let stateRoot: String
    nonisolated var prefix: String { "vbk\(index)" }
    nonisolated var gateway: String { "\(subnet).1" }
    /// The bridge's address: the pods' gateway, nameserver and host IP.
    nonisolated var gatewayAddress: String { gateway }
    nonisolated var cidr: String { "\(subnet).0/24" }
    /// Services' ClusterIPs (see `ServiceAddressAllocator.clusterIPPrefix`) and LoadBalancer ingress IPs, each a /24
    /// of the server's own, added to the bridge as they are used.
    nonisolated var clusterIPPrefix: String { "10.\(104 + index / 256).\(index % 256)" }
    nonisolated var loadBalancerPrefix: String { "10.\(108 + index / 256).\(index % 256)" }
    private nonisolated var subnet: String { "10.\(100 + index / 256).\(index % 256)" }
    private var sandboxes: [String: Sandbox] = [:]
    private var nextPod = 1
    private var usedHosts: Set<Int> = []

    private init(index: Int, stateRoot: String) {
        self.index = index
        self.stateRoot = stateRoot
    }

    static let maximumNetworks = 1024
    /// Where the next claim starts looking: past the last claim, and apart for each process, so a network just
    /// released is not handed straight to another server while whoever released it still checks that it is gone.
    private static let nextClaim = Atomic<Int>(Int(getpid()) * 61 % maximumNetworks)

    /// Removes what crashed servers left, then claims the first free network and creates its bridge.
    static func claim(stateRoot: String) async throws(PodRuntimeError) -> PodNetwork {
        try? FileManager.default.createDirectory(atPath: stateRoot, withIntermediateDirectories: true)
        await removeLeftovers(stateRoot: stateRoot)
        let taken = await hostSubnets()
        let start = nextClaim.wrappingAdd(1, ordering: .relaxed).oldValue
        for offset in 0..<maximumNetworks {
            let index = (start + offset) % maximumNetworks
            let network = PodNetwork(index: index, stateRoot: stateRoot)
            let ranges = [network.subnet, network.clusterIPPrefix, network.loadBalancerPrefix]
            guard taken.isDisjoint(with: ranges), claimOwnerFile(network.ownerFile(stateRoot)) else { continue }
            do {
                try await network.createBridge()
                nextClaim.store(index + 1, ordering: .relaxed)
                return network
            } catch {
                // Another program has this name or range: leave the index to whoever owns it.
                try? FileManager.default.removeItem(atPath: network.ownerFile(stateRoot))
                if case .hostCommandFailed(_, let message) = error, message.contains("File exists") { continue }
                throw error
            }
        }
        throw PodRuntimeError.noAddressRange("all \(maximumNetworks) networks 10.100.0.0/24-10.103.255.0/24 are in use or overlap the host's")
    }

    nonisolated func ownerFile(_ root: String) -> String { "\(root)/vbk\(index).owner" }

    /// The server's own directory for pods' files.
    nonisolated var directory: String { "\(stateRoot)/vbk\(index)" }

    static func claimOwnerFile(_ path: String) -> Bool {
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o644)
        guard descriptor >= 0 else { return false }
        let text = "\(getpid())\n"
        _ = text.withCString { write(descriptor, $0, strlen($0)) }
        close(descriptor)
        return true
    }

    private func createBridge() async throws(PodRuntimeError) {
        try await HostCommand("ip", "link", "add", prefix, "type", "bridge").run()
        try await HostCommand("ip", "addr", "add", "\(gateway)/24", "dev", prefix).run()
        try await HostCommand("ip", "link", "set", prefix, "up").run()
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The /24 prefixes (`a.b.c`) of the host's IPv4 addresses, so no pod network shadows one of them.
    private static func hostSubnets() async -> Set<String> {
        guard let output = try? await HostCommand("ip", "-o", "-4", "addr", "show").run() else { return [] }
        var subnets: Set<String> = []
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let inet = fields.firstIndex(of: "inet"), inet + 1 < fields.count else { continue }
            let address = fields[inet + 1].split(separator: "/")[0].split(separator: ".")
            if address.count == 4 { subnets.insert(address[0..<3].joined(separator: ".")) }
        }
        return subnets
    }

    // MARK: Pods

    /// Creates the pod's namespace, veth pair, address and routes; the same sandbox again for a known key.
    func sandbox(for key: String) async throws(PodRuntimeError) -> Sandbox {
        if let existing = sandboxes[key] { return existing }
        let number = nextPod
        nextPod += 1
        guard let host = (2...254).first(where: { !usedHosts.contains($0) }) else {
            throw PodRuntimeError.noAddressRange("the pod network \(cidr) is full (253 pods)")
        }
        usedHosts.insert(host)
        let sandbox = Sandbox(namespace: "\(prefix)-\(number)", hostLink: "\(prefix)h\(number)", address: "\(subnet).\(host)")
        do {
            try await HostCommand("ip", "netns", "add", sandbox.namespace).run()
            try await HostCommand("ip", "link", "add", sandbox.hostLink, "type", "veth", "peer", "name", "eth0", "netns", sandbox.namespace).run()
            try await HostCommand("ip", "link", "set", sandbox.hostLink, "master", prefix, "up").run()
            try await HostCommand("ip", "-n", sandbox.namespace, "addr", "add", "\(sandbox.address)/24", "dev", "eth0").run()
            try await HostCommand("ip", "-n", sandbox.namespace, "link", "set", "lo", "up").run()
            try await HostCommand("ip", "-n", sandbox.namespace, "link", "set", "eth0", "up").run()
            try await HostCommand("ip", "-n", sandbox.namespace, "route", "add", "default", "via", gateway).run()
        } catch {
            await remove(sandbox)
            usedHosts.remove(host)
            throw error
        }
        sandboxes[key] = sandbox
        return sandbox
    }

    /// Takes the pod off the network: its link down (a test's fault), or up again.
    func setConnected(_ connected: Bool, key: String) async throws(PodRuntimeError) {
        guard let sandbox = sandboxes[key] else { return }
        try await HostCommand("ip", "link", "set", sandbox.hostLink, connected ? "up" : "down").run()
    }

    func release(_ key: String) async {
        guard let sandbox = sandboxes.removeValue(forKey: key) else { return }
        await remove(sandbox)
        if let host = Int(sandbox.address.split(separator: ".").last ?? "") { usedHosts.remove(host) }
    }

    private func remove(_ sandbox: Sandbox) async {
        _ = try? await HostCommand("ip", "link", "del", sandbox.hostLink).run()
        // The name can stay busy for a moment while the kernel reaps the pod's last processes (their mount
        // namespaces hold a copy of it); the removal is retried until it goes.
        for _ in 0..<50 {
            _ = try? await HostCommand("ip", "netns", "del", sandbox.namespace).run()
            guard FileManager.default.fileExists(atPath: sandbox.namespacePath) else { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Removes every pod's namespace and link, the bridge and the owner file.
    func shutdown() async {
        for key in Array(sandboxes.keys) { await release(key) }
        await Self.removeNetwork(prefix: prefix)
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.removeItem(atPath: ownerFile(stateRoot))
    }

    // MARK: Leftovers

    /// Removes the networks, processes and files of servers whose owner process is gone.
    static func removeLeftovers(stateRoot: String) async {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: stateRoot)) ?? []
        for file in files where file.hasSuffix(".owner") {
            let path = "\(stateRoot)/\(file)"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), let owner = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                kill(owner, 0) != 0 && errno == ESRCH
            else { continue }
            let prefix = String(file.dropLast(".owner".count))
            await removeNetwork(prefix: prefix)
            try? FileManager.default.removeItem(atPath: "\(stateRoot)/\(prefix)")
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// Kills what still runs in the prefix's namespaces, removes the namespaces, then every link with the prefix.
    private static func removeNetwork(prefix: String) async {
        let namespaces = ((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []).filter { $0.hasPrefix(prefix + "-") }
        for namespace in namespaces {
            if let pids = try? await HostCommand("ip", "netns", "pids", namespace).run() {
                for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
            }
            _ = try? await HostCommand("ip", "netns", "del", namespace).run()
        }
        let links = (try? await HostCommand("ip", "-o", "link", "show").run()) ?? ""
        for line in links.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { continue }
            let name = fields[1].split(separator: ":")[0].split(separator: "@")[0]
            if name == prefix || name.hasPrefix(prefix + "h") {
                _ = try? await HostCommand("ip", "link", "del", String(name)).run()
            }
        }
    }
}
