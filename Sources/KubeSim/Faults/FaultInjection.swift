/// Faults the API server injects into client requests, for chaos tests (DESIGN.md §6). Only resource requests are
/// affected (discovery, `/version` and health checks never fail), and the simulated controllers never see faults:
/// they talk to the store, not over HTTP. With a `seed`, the same sequence of requests meets the same faults.
public struct FaultInjection: Sendable, Equatable {
    /// How often requests of one verb fail, each a probability from 0 to 1; their sum is the chance a request fails.
    public struct ErrorRates: Sendable, Equatable {
        /// 500 InternalError.
        public var internalError: Double
        /// 429 TooManyRequests with a `Retry-After` header.
        public var tooManyRequests: Double
        /// 409 Conflict; only updates and patches can conflict, so other verbs ignore it.
        public var conflict: Double

        public init(internalError: Double = 0, tooManyRequests: Double = 0, conflict: Double = 0) {
            self.internalError = internalError
            self.tooManyRequests = tooManyRequests
            self.conflict = conflict
        }
    }

    /// Error rates by verb (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`);
    /// `"*"` applies to every verb without its own entry.
    public var errorRates: [String: ErrorRates] = [:]
    /// Added before every resource request is served.
    public var latency: Duration = .zero
    /// The chance, after each event a watch sends, that the server ends the stream (as when an API server restarts
    /// or its watch times out), so clients must resume from their last resourceVersion.
    public var watchDropRate: Double = 0
    /// What 429 answers ask the client to wait, in seconds.
    public var retryAfterSeconds = 1
    /// Makes the faults reproducible; nil draws a fresh seed.
    public var seed: UInt64?

    public init(
        errorRates: [String: ErrorRates] = [:], latency: Duration = .zero, watchDropRate: Double = 0,
        retryAfterSeconds: Int = 1, seed: UInt64? = nil
    ) {
        self.errorRates = errorRates
        self.latency = latency
        self.watchDropRate = watchDropRate
        self.retryAfterSeconds = retryAfterSeconds
        self.seed = seed
    }

    /// No faults at all.
    public static let none = FaultInjection()

    func rates(for verb: String) -> ErrorRates {
        errorRates[verb] ?? errorRates["*"] ?? ErrorRates()
    }

    /// The first problem with the settings, phrased as a fix; nil when they are usable.
    var problem: String? {
        for (verb, rates) in errorRates.sorted(by: { $0.key < $1.key }) {
            for (name, value) in [("internalError", rates.internalError), ("tooManyRequests", rates.tooManyRequests), ("conflict", rates.conflict)]
            where !(0...1).contains(value) {
                return "errorRates[\(verb)].\(name) is \(value): use a probability from 0 to 1"
            }
            let total = rates.internalError + rates.tooManyRequests + rates.conflict
            if total > 1 { return "errorRates[\(verb)] add up to \(total): the rates of one verb must add up to at most 1" }
        }
        if !(0...1).contains(watchDropRate) { return "watchDropRate is \(watchDropRate): use a probability from 0 to 1" }
        if latency < .zero { return "latency is \(latency): use zero or more" }
        if retryAfterSeconds < 0 { return "retryAfterSeconds is \(retryAfterSeconds): use zero or more" }
        return nil
    }
}

/// SplitMix64: small, fast and reproducible from a seed, which is all fault injection and seeded tests need.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform draw from [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// The faults in force and the random sequence they are drawn from; changeable while the server runs.
actor FaultInjector {
    enum Decision: Sendable, Equatable {
        case serve
        case internalError
        case tooManyRequests(retryAfter: Int)
        case conflict
    }

    private(set) var faults: FaultInjection
    private var random: SeededGenerator

    init(_ faults: FaultInjection) {
        self.faults = faults
        random = SeededGenerator(seed: faults.seed ?? UInt64.random(in: .min ... .max))
    }

    /// Replaces the faults; a new seed restarts the random sequence.
    func set(_ faults: FaultInjection) {
        self.faults = faults
        if let seed = faults.seed { random = SeededGenerator(seed: seed) }
    }

    func decide(verb: String) -> Decision {
        let rates = faults.rates(for: verb)
        let conflict = ["update", "patch"].contains(verb) ? rates.conflict : 0
        guard rates.internalError + rates.tooManyRequests + conflict > 0 else { return .serve }
        let draw = random.unit()
        if draw < rates.internalError { return .internalError }
        if draw < rates.internalError + rates.tooManyRequests { return .tooManyRequests(retryAfter: faults.retryAfterSeconds) }
        if draw < rates.internalError + rates.tooManyRequests + conflict { return .conflict }
        return .serve
    }

    /// A generator of its own for one watch stream, so that its drops do not depend on other requests' timing.
    func watchDrops() -> (rate: Double, generator: SeededGenerator)? {
        guard faults.watchDropRate > 0 else { return nil }
        return (faults.watchDropRate, SeededGenerator(seed: random.next()))
    }
}
