/// The engine adapters the operator knows, by component definition `characterType`.
public struct EngineAdapters: Sendable {
    private let adapters: [String: any EngineAdapter]

    public init(_ adapters: [String: any EngineAdapter]) {
        self.adapters = adapters
    }

    /// Qdrant and PostgreSQL with pgvector.
    public static let standard = EngineAdapters(["qdrant": QdrantAdapter(), "postgresql": PgvectorAdapter()])

    public func adapter(for characterType: String?) -> (any EngineAdapter)? {
        characterType.flatMap { adapters[$0] }
    }
}
