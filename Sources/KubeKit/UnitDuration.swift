/// Text that adds up numbers with units: Go's (and so Kubernetes') durations, `90s`, `1h30m`, `1.5h`, and the retention
/// periods KubeBlocks writes with days, `7d`, `1d12h`. One parser; each caller gives its units.
public enum UnitDuration {
    /// Go's units in seconds: ns, us (or µs), ms, s, m, h.
    public static let goUnits: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]

    /// The sum in seconds, or nil for text that is not numbers each followed by one of `units` (a sign is not taken:
    /// callers that allow one strip it). `wholeNumbers` refuses fractions such as `1.5h`.
    public static func seconds(_ text: Substring, units: [(String, Double)], wholeNumbers: Bool = false) -> Double? {
        // Longer units first, so "ms" is not read as "m" followed by "s".
        let units = units.sorted { $0.0.count > $1.0.count }
        var rest = text
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || (!wholeNumbers && $0 == ".")) }
            rest = rest.dropFirst(number.count)
            guard let value = Double(number), let (unit, size) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * size
        }
        return total
    }

    /// A Go duration in seconds; `0` alone needs no unit. Negative durations are refused.
    public static func goSeconds(_ text: String) -> Double? {
        text == "0" ? 0 : seconds(Substring(text), units: goUnits)
    }
}
