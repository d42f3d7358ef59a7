import Crypto
import Foundation
import VectorBlocksAPI

/// The names of a VectorPipeline's objects and the labels on them. The instance label is left to Clusters (their
/// controller selects by it), so a pipeline and a Cluster of one name never see each other's objects.
public struct PipelineNames: Sendable, Hashable {
    public let pipeline: String
    public let namespace: String

    public init(pipeline: String, namespace: String) {
        self.pipeline = pipeline
        self.namespace = namespace
    }

    public static let pipelineLabel = "\(VectorBlocksAPI.group)/pipeline"
    public static let componentLabel = "app.kubernetes.io/component"
    public static let nameLabel = "app.kubernetes.io/name"
    public static let finalizer = "\(VectorBlocksAPI.group)/pipeline-finalizer"
    public static let metricsPort: Int32 = 8080

    public var serviceAccount: String { "\(pipeline)-pipeline" }
    public var settingsConfigMap: String { "\(pipeline)-pipeline-settings" }
    public var pelicanDeployment: String { "\(pipeline)-pelican" }
    public var emuDeployment: String { "\(pipeline)-emu" }
    public var metricsService: String { "\(pipeline)-pipeline-metrics" }

    /// How Emu names this pipeline as the maker of the sinks it creates.
    public var maker: String { "\(namespace)/\(pipeline)" }

    /// Every object of the pipeline carries these; the operator's caches select `managed-by`, the reconciler this.
    public var selector: [String: String] {
        [Self.pipelineLabel: pipeline, ClusterNames.managedByLabel: ClusterNames.managedBy]
    }

    /// The pods of one of the pipeline's workers (`pelican` or `emu`).
    public func workerSelector(_ worker: String) -> [String: String] {
        selector.merging([Self.componentLabel: worker]) { current, _ in current }
    }

    public func labels(worker: String?) -> [String: String] {
        var labels = selector
        if let worker {
            labels[Self.componentLabel] = worker
            labels[Self.nameLabel] = worker
        }
        labels["app.kubernetes.io/part-of"] = "vectorpipeline"
        return labels
    }

    /// The pipeline's name inside the source database (the trigger, the queue, the lock, the state row): a plain
    /// SQL identifier of at most 40 bytes, unique per namespace and name, since pipelines of several namespaces may
    /// share one database. Readable: the name with `-` as `_`, then 8 hex digits of the namespace and name.
    public var sourceStateName: String {
        let readable = String(pipeline.replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: ".", with: "_").prefix(31))
        let digest = SHA256.hash(data: Data("\(namespace)/\(pipeline)".utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
        let start = readable.first.map { $0.isLetter || $0 == "_" } == true ? "" : "p"
        return "\(start)\(readable)_\(digest)".prefix(40).description
    }
}
