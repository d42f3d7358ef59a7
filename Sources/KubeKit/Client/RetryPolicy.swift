/// How reads are retried on 429, 5xx and connection errors: capped exponential backoff with full jitter, and a
/// server's Retry-After honoured. Writes are never retried blindly: a timed-out POST may have been applied.
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// The longest Retry-After the client will wait for before giving up and returning the error.
    public var maxRetryAfter: Duration

    public init(
        maxAttempts: Int = 5, initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(5),
        maxRetryAfter: Duration = .seconds(30)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.maxRetryAfter = maxRetryAfter
    }

    public static let none = RetryPolicy(maxAttempts: 1)

    /// The wait before attempt `attempt + 1` (attempt counts from 1): a uniformly random duration up to
    /// `initialBackoff × 2^(attempt-1)`, capped, so many clients retrying at once do not stampede the server.
    public func backoff(afterAttempt attempt: Int, retryAfter: Duration?) -> Duration {
        if let retryAfter { return min(retryAfter, maxRetryAfter) }
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(initialBackoff * (1 << exponent), maxBackoff)
        let nanoseconds = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds))
    }
}
