import Foundation

/// What a stopped KubeSim server with pods that run left behind: network namespaces and links named with its
/// bridge's prefix, mounts under its state directory, processes whose command line names that directory, and the
/// directory itself. Empty when it cleaned up after itself: what tests of the process runtime check after a server stops.
///
/// The network's owner file is held while looking, so no server started meanwhile (in this process or another) takes
/// the same names; nil when one already has: what is there is then its own, and nothing can be told.
public func processPodLeftovers(bridge: String, directory: String) -> [String]? {
    let ownerFile = directory + ".owner"
    guard PodNetwork.claimOwnerFile(ownerFile) else { return nil }
    defer { try? FileManager.default.removeItem(atPath: ownerFile) }
    var leftovers: [String] = []
    let namespaces = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
    leftovers += namespaces.filter { $0.hasPrefix(bridge + "-") }.map { "network namespace \($0)" }
    let devices = (try? String(contentsOfFile: "/proc/net/dev", encoding: .utf8)) ?? ""
    let links = devices.split(separator: "\n").compactMap { $0.split(separator: ":").first?.trimmingCharacters(in: .whitespaces) }
    leftovers += links.filter { $0 == bridge || $0.hasPrefix(bridge + "h") }.map { "link \($0)" }
    let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
    leftovers += mounts.split(separator: "\n").filter { $0.contains(directory) || $0.contains("/run/netns/\(bridge)-") }.map { "mount \($0)" }
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil {
        guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
        let commandLine = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        if commandLine.contains(directory) { leftovers.append("process \(entry): \(commandLine)") }
    }
    if FileManager.default.fileExists(atPath: directory) { leftovers.append("state directory \(directory)") }
    return leftovers
}
