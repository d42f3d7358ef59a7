/// What went wrong on some of a component's pods while the others were still served: one pod's failure (a 409 from
/// a pod made again since the cache saw it, a server that refuses) must not hold back the rest. Thrown once the
/// others are done, naming each pod, so the pass is reported and retried.
struct PodFailures: Error, Sendable, CustomStringConvertible {
    private(set) var failures: [(pod: String, reason: String)] = []

    mutating func append(_ pod: String, _ error: any Error) {
        failures.append((pod, ObjectApplier.reason(error)))
    }

    func throwIfAny() throws {
        if !failures.isEmpty { throw self }
    }

    var description: String {
        failures.map { "\($0.pod): \($0.reason)" }.joined(separator: "; ")
    }
}
