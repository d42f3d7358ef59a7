/// Why a model directory cannot be used, or a text cannot be encoded. Each case names the file and what to do.
public enum MiniLMError: Error, CustomStringConvertible, Equatable {
    /// A file the model needs is not in the model directory.
    case missingFile(path: String, fix: String)
    /// A file is there but cannot be read as what it should be.
    case corruptFile(path: String, problem: String)
    /// The model is not the BERT encoder this embedder runs (another architecture, pooling or size).
    case unsupportedModel(path: String, problem: String)

    public var description: String {
        switch self {
        case .missingFile(let path, let fix): "\(path) is missing: \(fix)"
        case .corruptFile(let path, let problem): "\(path) is corrupt: \(problem); reinstall the model files"
        case .unsupportedModel(let path, let problem): "\(path) describes a model this embedder cannot run: \(problem)"
        }
    }
}
