import KubeKit
import Logging

/// Keeps an `ObjectCache` of one kind in step with the API server, as client-go's reflector does: list (paginated),
/// then watch from the list's resourceVersion with bookmarks; re-watch from the last version seen when a watch ends;
/// list again when the server says that version is gone (410); reconnect with jittered backoff on errors.
///
/// Scope it by namespace and label selector so the operator caches only what it manages. Cached objects carry no
/// `metadata.managedFields`, and a `transform` can cut them further, as controller-runtime's cache transforms do.
public final class Informer<Object: KubernetesObject>: Sendable {
    public let cache = ObjectCache<Object>()
    public let namespace: String?
    public let labelSelector: String?
    public let fieldSelector: String?

    private let client: KubeClient
    private let logger: Logger
    private let state = InformerState<Object>()
    private let timing: Timing
    private let transform: Transform

    public typealias Timing = InformerTiming
    /// Cuts an object, as the API server sent it, to what the cache keeps, before it is decoded.
    public typealias Transform = @Sendable (inout JSONValue) -> Void

    public init(
        client: KubeClient, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
        timing: Timing = .init(), transform: @escaping Transform = { _ in }, logger: Logger = Logger(label: "operatorkit.informer")
    ) {
        self.client = client
        self.transform = transform
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.timing = timing
        var logger = logger
        logger[metadataKey: "kind"] = "\(Object.descriptor.kind)"
        self.logger = logger
    }

    /// Calls `handler` for every change, in order, starting with an `added` for each object of the first list.
    /// Register handlers before `run`.
    public func addHandler(_ handler: @escaping @Sendable (InformerEvent<Object>) async -> Void) async {
        await state.addHandler(handler)
    }

    /// Whether the first list has been loaded into the cache.
    public func hasSynced() async -> Bool { state.synced.isOpen }

    /// Waits until the first list is in the cache, or the task is cancelled.
    public func waitForSync() async {
        await state.synced.wait()
    }

    /// Whether the informer has made no progress (a list, a watch event or bookmark, a watch ended by its timeout)
    /// for longer than its longest watch lasts plus `slack`: its connection hangs, or lists keep failing, so the
    /// cache no longer follows the server.
    public func isStalled(slack: Duration) async -> Bool {
        ContinuousClock.now - (await state.lastProgress) > .seconds(timing.watchTimeout.upperBound) + slack
    }

    /// Runs until the task is cancelled.
    public func run() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let resourceVersion = try await relist()
                failures = 0
                try await watch(from: resourceVersion, failures: &failures)
            } catch let error as KubeAPIError where error.isGone {
                logger.debug("resourceVersion too old, listing again")
            } catch is CancellationError {
                return
            } catch {
                failures += 1
                let wait = backoff(afterFailures: failures)
                logger.warning("list failed, retrying", metadata: ["error": "\(error)", "wait": "\(wait)"])
                try? await Task.sleep(for: wait)
            }
        }
    }

    private var listOptions: ListOptions {
        ListOptions(labelSelector: labelSelector, fieldSelector: fieldSelector, limit: timing.pageSize)
    }

    private func relist() async throws -> String {
        let list = try await client.listAll(Object.descriptor, namespace: namespace, options: listOptions)
        let events = await cache.replace(with: list.items.compactMap(decoded))
        await state.deliver(events)
        state.synced.open()
        await state.progressed()
        return list.resourceVersion ?? ""
    }

    /// Watches from `resourceVersion`, re-watching from the newest version seen each time a stream ends, until the
    /// version is gone (thrown, to relist) or the task is cancelled.
    private func watch(from resourceVersion: String, failures: inout Int) async throws {
        var resourceVersion = resourceVersion
        while !Task.isCancelled {
            let options = WatchOptions(
                labelSelector: labelSelector, fieldSelector: fieldSelector, resourceVersion: resourceVersion,
                allowWatchBookmarks: true, timeoutSeconds: Int.random(in: timing.watchTimeout))
            do {
                for try await event in client.watch(Object.descriptor, namespace: namespace, options: options) {
                    failures = 0
                    await state.progressed()
                    switch event {
                    case .added(let json), .modified(let json):
                        resourceVersion = json["metadata"]?["resourceVersion"]?.stringValue ?? resourceVersion
                        guard let object = decoded(json) else {
                            // What the controllers cannot read is no longer in their view, rather than stale.
                            if let previous = await cache.remove(Self.key(of: json)) { await state.deliver([.deleted(previous)]) }
                            continue
                        }
                        let previous = await cache.upsert(object)
                        await state.deliver([previous.map { .updated(old: $0, new: object) } ?? .added(object)])
                    case .deleted(let json):
                        resourceVersion = json["metadata"]?["resourceVersion"]?.stringValue ?? resourceVersion
                        let previous = await cache.remove(Self.key(of: json))
                        if let object = decoded(json) ?? previous { await state.deliver([.deleted(object)]) }
                    case .bookmark(let version):
                        if !version.isEmpty { resourceVersion = version }
                    case .error(let status):
                        logger.warning("watch error", metadata: ["status": "\(status.message ?? "")"])
                    }
                }
                await state.progressed()
            } catch let error as KubeAPIError where error.isGone {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                failures += 1
                let wait = backoff(afterFailures: failures)
                logger.debug("watch broke, resuming", metadata: ["error": "\(error)", "wait": "\(wait)"])
                try await Task.sleep(for: wait)
            }
        }
    }

    /// The object as the cache keeps it, or nil (with an error logged) when it does not decode: one object the models
    /// cannot read must not stop the informer, and with it every controller waiting for its sync. It is kept without
    /// `metadata.managedFields`, as controller-runtime's TransformStripManagedFields leaves it: nothing a controller
    /// decides reads them, and they are often the largest part of an object.
    private func decoded(_ json: JSONValue) -> Object? {
        var json = json
        json["metadata"]?["managedFields"] = nil
        transform(&json)
        do {
            return try json.decode(as: Object.self)
        } catch {
            let key = Self.key(of: json)
            logger.error(
                "skipping an object that does not decode",
                metadata: [
                    "object": "\(key.namespace.map { "\($0)/" } ?? "")\(key.name)", "error": "\(error)",
                ])
            return nil
        }
    }

    private static func key(of json: JSONValue) -> ObjectKey {
        ObjectKey(namespace: json["metadata"]?["namespace"]?.stringValue, name: json["metadata"]?["name"]?.stringValue ?? "")
    }

    /// 800 ms doubling to 30 s, with up to 100% jitter, as client-go's reflector backs off.
    private func backoff(afterFailures failures: Int) -> Duration {
        let base = min(timing.initialBackoff * (1 << min(max(failures - 1, 0), 16)), timing.maxBackoff)
        return base + base * Double.random(in: 0...1)
    }
}

/// What an informer shares between its loop and its callers.
private actor InformerState<Object: KubernetesObject> {
    private var handlers: [@Sendable (InformerEvent<Object>) async -> Void] = []
    nonisolated let synced = SyncLatch()
    private(set) var lastProgress = ContinuousClock.now

    func addHandler(_ handler: @escaping @Sendable (InformerEvent<Object>) async -> Void) {
        handlers.append(handler)
    }

    func deliver(_ events: [InformerEvent<Object>]) async {
        for event in events {
            for handler in handlers { await handler(event) }
        }
    }

    func progressed() {
        lastProgress = .now
    }
}

/// How long watches last and how reconnects back off; tests shorten them.
public struct InformerTiming: Sendable {
    /// The server is asked to end each watch after a random time in this range, so many informers do not
    /// reconnect at once (client-go: 5 to 10 minutes).
    public var watchTimeout: ClosedRange<Int>
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    public var pageSize: Int

    public init(
        watchTimeout: ClosedRange<Int> = 300...600, initialBackoff: Duration = .milliseconds(800),
        maxBackoff: Duration = .seconds(30), pageSize: Int = 500
    ) {
        self.watchTimeout = watchTimeout
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.pageSize = pageSize
    }
}
