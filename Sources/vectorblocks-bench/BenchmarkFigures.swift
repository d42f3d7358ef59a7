import Foundation

// What every benchmark prints its figures with.

extension Duration {
    /// The duration in seconds, for rates.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

extension Array where Element: Comparable {
    /// The value at `fraction` of a sorted array (nearest rank); nil when it is empty.
    func percentile(_ fraction: Double) -> Element? {
        guard !isEmpty else { return nil }
        return self[Swift.max(0, Swift.min(count - 1, Int((Double(count) * fraction).rounded(.up)) - 1))]
    }
}

enum Figures {
    static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    /// The CPU model, the cores and the load average before the run: figures from different machines, or from one
    /// busy with other work, are not comparable, so each run says where it ran.
    static func machine() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(load) (1 min) at the start"
    }

    /// VmRSS from /proc/self/status, in MiB.
    static func residentMemoryMiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").compactMap { Int($0) }.first.map { $0 / 1024 }
        }
        return nil
    }
}
