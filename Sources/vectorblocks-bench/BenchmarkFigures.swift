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

    /// VmRSS from /proc/self/status, in MiB.
    static func residentMemoryMiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").compactMap { Int($0) }.first.map { $0 / 1024 }
        }
        return nil
    }
}
