import KubeKit

/// A retention period as KubeBlocks writes it: whole numbers with units `d`, `h`, `m` that add up, `7d`, `12h`,
/// `1d12h`; more than zero.
public struct RetentionPeriod: Sendable, Hashable {
    public let text: String
    public let seconds: Int64

    public init?(_ text: String) {
        guard let seconds = UnitDuration.seconds(Substring(text), units: [("d", 86_400), ("h", 3_600), ("m", 60)], wholeNumbers: true),
            seconds > 0
        else { return nil }
        self.text = text
        self.seconds = Int64(seconds)
    }
}
