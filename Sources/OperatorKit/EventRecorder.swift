import Foundation
import KubeKit
import Logging

/// Records core/v1 Events about objects, as client-go's recorder does, so `kubectl describe` shows what the
/// operator did and why. The same event about the same object within the aggregation window bumps a count on one
/// Event instead of making a new one; a token bucket per object (25 at once, then one per five minutes) keeps a
/// hot loop from flooding the API server. Recording never fails the caller: events are best-effort.
public actor EventRecorder {
    public enum EventType: String, Sendable {
        case normal = "Normal"
        case warning = "Warning"
    }

    private struct AggregationKey: Hashable {
        var uid: String
        var type: String
        var reason: String
        var message: String
    }

    private struct Recorded {
        var eventName: String
        var namespace: String
        var count: Int32
        var lastSeen: ContinuousClock.Instant
    }

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let client: KubeClient
    private let component: String
    private let instance: String
    private let logger: Logger
    private let clock = ContinuousClock()
    private let aggregationWindow: Duration
    private let burst: Double
    private let refillInterval: Duration
    private var recorded: [AggregationKey: Recorded] = [:]
    private var buckets: [String: Bucket] = [:]

    public init(
        client: KubeClient, component: String, instance: String = ProcessInfo.processInfo.hostName,
        aggregationWindow: Duration = .seconds(600), burst: Int = 25, refillInterval: Duration = .seconds(300),
        logger: Logger = Logger(label: "operatorkit.events")
    ) {
        self.client = client
        self.component = component
        self.instance = instance
        self.aggregationWindow = aggregationWindow
        self.burst = Double(burst)
        self.refillInterval = refillInterval
        self.logger = logger
    }

    public func record<Object: KubernetesObject>(
        _ object: Object, type: EventType, reason: String, message: String
    ) async {
        guard let metadata = object.metadata, let name = metadata.name, let uid = metadata.uid else { return }
        pruneIfLarge()
        guard allow(uid) else {
            logger.debug("event dropped by the spam filter", metadata: ["object": "\(name)", "reason": "\(reason)"])
            return
        }
        let key = AggregationKey(uid: uid, type: type.rawValue, reason: reason, message: message)
        let now = clock.now
        if var existing = recorded[key], now - existing.lastSeen < aggregationWindow {
            existing.count += 1
            existing.lastSeen = now
            recorded[key] = existing
            do {
                _ = try await client.patch(
                    CoreV1.Event.self, name: existing.eventName, namespace: existing.namespace,
                    patch: .merge(["count": .int(Int64(existing.count)), "lastTimestamp": .string(MetaV1.Time.now().rfc3339)]))
                return
            } catch {
                // The Event expired or was deleted: make a new one below.
                recorded[key] = nil
            }
        }
        let namespace = metadata.namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let timestamp = MetaV1.Time.now()
        let eventName = "\(name).\(String(UInt64(Date().timeIntervalSince1970 * 1_000_000_000), radix: 16))"
        let event = CoreV1.Event(
            count: 1, firstTimestamp: timestamp,
            involvedObject: CoreV1.ObjectReference(
                apiVersion: Object.descriptor.apiVersion, kind: Object.descriptor.kind, name: name,
                namespace: metadata.namespace, resourceVersion: metadata.resourceVersion, uid: uid),
            lastTimestamp: timestamp, message: message, metadata: MetaV1.ObjectMeta(name: eventName, namespace: namespace),
            reason: reason, reportingComponent: component, reportingInstance: instance,
            source: CoreV1.EventSource(component: component, host: instance), type: type.rawValue)
        do {
            _ = try await client.create(event)
            recorded[key] = Recorded(eventName: eventName, namespace: namespace, count: 1, lastSeen: now)
        } catch {
            logger.warning("could not record an event", metadata: ["reason": "\(reason)", "error": "\(error)"])
        }
    }

    /// Forgets aggregation entries past their window and buckets that have refilled, so a long-running operator
    /// keeps a bounded memory of the events it recorded.
    private func pruneIfLarge() {
        guard recorded.count + buckets.count > 4096 else { return }
        let now = clock.now
        recorded = recorded.filter { now - $0.value.lastSeen < aggregationWindow }
        let refillTime = refillInterval * burst
        buckets = buckets.filter { now - $0.value.updated < refillTime }
    }

    private func allow(_ uid: String) -> Bool {
        let now = clock.now
        var bucket = buckets[uid] ?? Bucket(tokens: burst, updated: now)
        let refill = (now - bucket.updated) / refillInterval
        bucket.tokens = min(burst, bucket.tokens + refill)
        bucket.updated = now
        guard bucket.tokens >= 1 else {
            buckets[uid] = bucket
            return false
        }
        bucket.tokens -= 1
        buckets[uid] = bucket
        return true
    }
}
