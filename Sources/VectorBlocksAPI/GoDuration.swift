/// A duration as Go (and so Kubernetes) writes one: a sequence of decimal numbers with units, e.g. `90s`, `1h30m`,
/// `1.5h`; units ns, us (or µs), ms, s, m, h.
public enum GoDuration {
    /// The duration in seconds, or nil for text that is not a duration. Negative durations are refused.
    public static func seconds(_ text: String) -> Double? {
        if text == "0" { return 0 }
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(number.count)
            // Two-letter units first, so "ms" is not read as "m" followed by "s".
            guard let value = Double(number), let (unit, size) = units.sorted(by: { $0.0.count > $1.0.count }).first(where: { rest.hasPrefix($0.0) })
            else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * size
        }
        return total
    }
}
