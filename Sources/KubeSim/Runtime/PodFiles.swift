import Foundation
import KubeKit

/// The files the kubelet writes for every pod and bind-mounts into each container: `/etc/hosts`,
/// `/etc/resolv.conf`, `/etc/hostname`, and (since a container's users come from its image, which here is the host)
/// `/etc/passwd` and `/etc/group` with an entry for the pod's `runAsUser` and groups when the host has none.
enum PodFiles {
    static func hostname(of pod: JSONValue) -> String {
        let name = pod["spec"]?["hostname"]?.stringValue ?? pod.metadataName ?? "pod"
        return String(name.prefix(63))
    }

    /// `hostname.subdomain.ns.svc.cluster.local` for a pod with a subdomain, else nil.
    static func fullyQualifiedName(of pod: JSONValue) -> String? {
        guard let subdomain = pod["spec"]?["subdomain"]?.stringValue, !subdomain.isEmpty else { return nil }
        return "\(hostname(of: pod)).\(subdomain).\(pod.metadataNamespace ?? "default").svc.cluster.local"
    }

    static func hosts(pod: JSONValue, podIP: String) -> String {
        var lines = [
            "# Kubernetes-managed hosts file.",
            "127.0.0.1\tlocalhost",
            "::1\tlocalhost ip6-localhost ip6-loopback",
            "fe00::0\tip6-localnet",
            "fe00::0\tip6-mcastprefix",
            "fe00::1\tip6-allnodes",
            "fe00::2\tip6-allrouters",
        ]
        let name = hostname(of: pod)
        lines.append(fullyQualifiedName(of: pod).map { "\(podIP)\t\($0)\t\(name)" } ?? "\(podIP)\t\(name)")
        for alias in pod["spec"]?["hostAliases"]?.arrayValue ?? [] {
            guard let ip = alias["ip"]?.stringValue else { continue }
            let names = alias["hostnames"]?.arrayValue?.compactMap(\.stringValue) ?? []
            lines.append("\n# Entries added by HostAliases.\n\(ip)\t\(names.joined(separator: "\t"))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func resolvConf(pod: JSONValue, nameserver: String) -> String {
        let namespace = pod.metadataNamespace ?? "default"
        return """
            search \(namespace).svc.cluster.local svc.cluster.local cluster.local
            nameserver \(nameserver)
            options ndots:5

            """
    }

    /// The host's file with a line added for each id it lacks.
    static func withEntries(_ hostFile: String, ids: [UInt32], line: (UInt32) -> String) -> String {
        var lines = hostFile.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let known = Set(
            lines.compactMap { line -> UInt32? in
                let fields = line.split(separator: ":", omittingEmptySubsequences: false)
                return fields.count > 2 ? UInt32(fields[2]) : nil
            })
        for id in ids where !known.contains(id) { lines.append(line(id)) }
        return lines.joined(separator: "\n") + "\n"
    }

    static func passwd(host: String, users: [(uid: UInt32, gid: UInt32)]) -> String {
        var groups: [UInt32: UInt32] = [:]
        for user in users { groups[user.uid] = groups[user.uid] ?? user.gid }
        return withEntries(host, ids: users.map(\.uid)) { uid in "uid\(uid):x:\(uid):\(groups[uid] ?? 0):container user:/tmp:/bin/sh" }
    }

    static func group(host: String, gids: [UInt32]) -> String {
        withEntries(host, ids: gids) { gid in "gid\(gid):x:\(gid):" }
    }
}
