import AsyncHTTPClient
import Foundation
import KubeKit
import Logging
import OperatorKit
import VectorBlocksAPI
import VectorSync

/// Drops the data of removed sinks whose `deletionPolicy` is `Delete`, once no Emu writes them: the Emu pods and
/// Deployment and the pipeline are read fresh from the API server, and the sink's record is read again in the same
/// step as the drop (`SinkDataDrop`), which happens only when it names this pipeline as the sink's maker. What cannot
/// proceed (a rollout, an unreachable sink) stays pending with the reason and is tried again on the next look.
struct PipelineSinkCleanup: Sendable {
    let client: KubeClient
    let caches: OperatorCaches
    let source: PipelineSource
    let logger: Logger

    func advance(_ entries: [RemovedSink], of pipeline: VectorPipeline, names: PipelineNames) async throws -> [RemovedSink] {
        guard entries.contains(where: { $0.state == .pending }) else { return entries }
        let now = MetaV1.Time.now()
        let pods = try await client.list(
            CoreV1.Pod.self, namespace: names.namespace,
            options: ListOptions(labelSelector: Self.selector(names.workerSelector("emu"))))
        let emuPods = pods.items.map { (name: $0.metadata?.name ?? "", spec: $0.spec) }
        let emuRolledOut = try await emuObservedItsTemplate(names)
        let fresh = try await freshSpecTargets(names)
        var result: [RemovedSink] = []
        for entry in entries {
            guard entry.state == .pending else {
                result.append(entry)
                continue
            }
            // Back in the spec since the cache was read: the next look takes it off the list.
            if let fresh, fresh.contains(entry.target.resolved(in: names.namespace)) {
                result.append(entry)
                continue
            }
            let writers = await otherWriters(of: entry.target, names: names)
            if let wait = PipelineSinkRemoval.wait(
                for: entry, emuPods: emuPods, emuRolledOut: emuRolledOut, otherWriters: writers, namespace: names.namespace)
            {
                result.append(PipelineSinkRemoval.waiting(entry, because: wait, now: now))
                continue
            }
            result.append(try await drop(entry, names: names, now: now))
        }
        return result
    }

    /// The Deployment has seen its latest template (or is gone): pods made from an older one are listed by then.
    private func emuObservedItsTemplate(_ names: PipelineNames) async throws -> Bool {
        do {
            let emu = try await client.get(AppsV1.Deployment.self, name: names.emuDeployment, namespace: names.namespace)
            return (emu.status?.observedGeneration ?? 0) >= (emu.metadata?.generation ?? 0)
        } catch let error as KubeAPIError where error.isNotFound {
            return true
        }
    }

    /// The pipeline's targets as the API server has them now; nil once the pipeline is gone.
    private func freshSpecTargets(_ names: PipelineNames) async throws -> Set<SinkTarget>? {
        do {
            let pipeline = try await client.get(VectorPipeline.self, name: names.pipeline, namespace: names.namespace)
            // A pipeline being deleted writes none of its sinks any more.
            guard pipeline.metadata?.deletionTimestamp == nil else { return [] }
            return Set(pipeline.spec.sinks.map { $0.target.resolved(in: names.namespace) })
        } catch let error as KubeAPIError where error.isNotFound {
            return nil
        }
    }

    /// The other pipelines of the namespace whose spec writes `target`.
    private func otherWriters(of target: SinkTarget, names: PipelineNames) async -> [String] {
        let resolved = target.resolved(in: names.namespace)
        return await caches.pipelines.list(namespace: names.namespace).compactMap { other in
            guard let name = other.metadata?.name, name != names.pipeline, other.metadata?.deletionTimestamp == nil,
                other.spec.sinks.contains(where: { $0.target.resolved(in: names.namespace) == resolved })
            else { return nil }
            return name
        }
    }

    private func drop(_ entry: RemovedSink, names: PipelineNames, now: MetaV1.Time) async throws -> RemovedSink {
        let address: SinkAddress
        switch try await SinkAddress.resolve(entry.target, namespace: names.namespace, client: client, source: source) {
        case .gone(let message):
            var gone = PipelineSinkRemoval.settle(entry, outcome: .absent, maker: names.maker, now: now)
            gone.message = message
            return gone
        case .missing(let message):
            return PipelineSinkRemoval.waiting(entry, because: message + "; the drop is tried again", now: now)
        case .found(let found):
            address = found
        }
        do {
            let outcome = try await address.drop(entry.target.collection, ifMadeBy: names.maker, logger: logger)
            logger.info(
                "removed sink",
                metadata: ["pipeline": "\(names.maker)", "sink": "\(entry.name)", "target": "\(entry.target.description)", "outcome": "\(outcome)"])
            return PipelineSinkRemoval.settle(entry, outcome: outcome, maker: names.maker, now: now)
        } catch {
            return PipelineSinkRemoval.waiting(
                entry, because: "cannot drop the \(entry.target.description): \(PipelineSource.reason(error)); the drop is tried again", now: now)
        }
    }

    static func selector(_ labels: [String: String]) -> String {
        labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }
}
