/// Synchronous replication of a Replication component: a commit on the primary returns once `number` standbys
/// (any of them) have written it, so a failover to the most advanced standby loses no committed transaction.
public struct SynchronousReplication: Codable, Sendable, Hashable, SchemaDescribed {
    /// How many standbys must confirm each commit; at least 1 and fewer than the component's replicas.
    public var number: Int32

    public init(number: Int32) {
        self.number = number
    }

    public static let schema = Schema.object(
        [
            "number": Schema.integer(minimum: 1)
                .describing("How many standbys must confirm each commit (ANY n of the standbys); fewer than the replicas.")
        ], required: ["number"])

    /// `number` is at least 1 and leaves the primary out: fewer than `replicas`.
    func validate(at path: String, replicas: Int32) -> [FieldError] {
        if number < 1 {
            return [
                FieldError(
                    field: "\(path).number", message: "Invalid value: \(number): must be greater than or equal to 1",
                    fix: "set 1 or more, or remove synchronous for asynchronous replication")
            ]
        }
        // A stopped component (0 replicas, kept by a Stop) keeps its setting for the Start.
        if replicas > 0, number >= replicas {
            return [
                FieldError(
                    field: "\(path).number", message: "Invalid value: \(number): must be less than the component's replicas (\(replicas))",
                    fix: "set at most \(max(replicas - 1, 1)), or add replicas: the primary does not count")
            ]
        }
        return []
    }
}
