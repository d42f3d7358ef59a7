/// What Emu records in a sink it writes (a pgvector table's comment, a Qdrant collection's metadata): the model,
/// dimension and metric every writer must match, and, when Emu created the sink for a VectorPipeline, that pipeline
/// (`"pipeline": "<namespace>/<name>"`), which alone may drop the sink's data.
public struct SinkRecord: Sendable, Hashable {
    public var model: String?
    public var dimension: Int64?
    public var metric: String?

    public init(model: String, dimension: Int, metric: VectorMetric) {
        self.model = model
        self.dimension = Int64(dimension)
        self.metric = metric.rawValue
    }

    /// The embedder's part of a recorded JSON object; the maker is not part of it, so every writer compares equal.
    public init(_ recorded: JSONValue) {
        model = recorded["model"]?.stringValue
        dimension = recorded["dimension"]?.intValue
        metric = recorded["metric"]?.stringValue
    }

    /// The maker a record names, nil when it names none (a sink made by hand or before makers were recorded).
    public static func maker(in recorded: JSONValue) -> String? {
        recorded["pipeline"]?.stringValue
    }

    public var json: JSONValue { json(madeBy: nil) }

    public func json(madeBy maker: String?) -> JSONValue {
        var fields: [String: JSONValue] = [:]
        fields["model"] = model.map(JSONValue.string)
        fields["dimension"] = dimension.map(JSONValue.int)
        fields["metric"] = metric.map(JSONValue.string)
        fields["pipeline"] = maker.map(JSONValue.string)
        return .object(fields)
    }
}
