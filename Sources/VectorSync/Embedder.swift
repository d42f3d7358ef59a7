/// Turns texts into L2-normalised vectors, a batch per call.
public protocol Embedder: Sendable {
    /// The model name recorded in the sinks.
    var model: String { get }
    var dimension: Int { get }

    /// One vector per text, in order. A text the embedder can never embed throws `EmbeddingError.rejected` with its
    /// index, so that the caller can send that row to the dead-letter queue and embed the rest.
    func embed(_ texts: [String]) async throws -> [[Float]]
}

public enum EmbeddingError: Error, CustomStringConvertible, Equatable {
    case rejected(index: Int, reason: String)

    public var description: String {
        switch self {
        case .rejected(let index, let reason): "text \(index) of the batch cannot be embedded: \(reason)"
        }
    }
}
