import Metrics

/// A queue of keys to reconcile, with client-go's guarantees: a key is queued at most once however often it is
/// added; a key is never handed to two workers at once; a key added while it is being processed is handed out again
/// once that processing is done; failed keys come back after a per-key exponential backoff.
public actor WorkQueue<Key: Hashable & Sendable> {
    /// Keys waiting to be handed out, in order.
    private var queue: [Key] = []
    private var queueHead = 0
    /// Keys that need processing: queued, or added again while being processed.
    private var dirty: Set<Key> = []
    private var processing: Set<Key> = []
    private var addedAt: [Key: ContinuousClock.Instant] = [:]
    private var startedAt: [Key: ContinuousClock.Instant] = [:]
    private var waiters: [CheckedContinuation<Key?, Never>] = []
    private var shuttingDown = false

    private var failures: [Key: Int] = [:]
    private var delayedUntil: [Key: ContinuousClock.Instant] = [:]
    /// One sleeping task for all delayed adds, set for the earliest; replaced when an earlier one comes.
    private var timer: (task: Task<Void, Never>, deadline: ContinuousClock.Instant)?

    public let name: String
    public let backoff: Backoff
    private let metrics: WorkQueueMetrics
    private let clock = ContinuousClock()

    /// controller-runtime's default rate limiter: 5 ms × 2^failures, capped at 1000 s.
    public struct Backoff: Sendable, Hashable {
        public var base: Duration
        public var cap: Duration

        public init(base: Duration = .milliseconds(5), cap: Duration = .seconds(1000)) {
            self.base = base
            self.cap = cap
        }

        public func delay(afterFailures failures: Int) -> Duration {
            // 2^40 × 5 ms is far beyond any cap, and keeps the product well inside Duration's range.
            let exponent = min(max(failures, 0), 40)
            return min(base * (1 << exponent), cap)
        }
    }

    public init(name: String, backoff: Backoff = .init(), metricsFactory: (any MetricsFactory)? = nil) {
        self.name = name
        self.backoff = backoff
        self.metrics = WorkQueueMetrics(name: name, factory: metricsFactory)
    }

    /// Queues a key unless it is already waiting.
    public func add(_ key: Key) {
        guard !shuttingDown, !dirty.contains(key) else { return }
        metrics.adds.increment()
        dirty.insert(key)
        addedAt[key] = addedAt[key] ?? clock.now
        // A key being processed goes back on the queue when it is done, not now, so no two workers hold it.
        guard !processing.contains(key) else { return }
        enqueue(key)
    }

    /// Queues a key after `delay`; of several delayed adds of one key, the earliest wins.
    public func add(_ key: Key, after delay: Duration) {
        guard !shuttingDown else { return }
        guard delay > .zero else { return add(key) }
        let deadline = clock.now.advanced(by: delay)
        if let existing = delayedUntil[key], existing <= deadline { return }
        delayedUntil[key] = deadline
        scheduleTimer()
    }

    /// Queues a key after its backoff, which doubles with each failure until `forget`.
    public func addRateLimited(_ key: Key) {
        let failureCount = failures[key, default: 0]
        failures[key] = failureCount + 1
        metrics.retries.increment()
        add(key, after: backoff.delay(afterFailures: failureCount))
    }

    /// Resets a key's backoff after it succeeded.
    public func forget(_ key: Key) {
        failures[key] = nil
    }

    public func failureCount(_ key: Key) -> Int { failures[key, default: 0] }

    /// The next key to process, waiting for one; nil once the queue is shut down.
    public func next() async -> Key? {
        if let key = dequeue() { return key }
        if shuttingDown { return nil }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// Marks a key processed; if it was added meanwhile, it is queued again.
    public func done(_ key: Key) {
        processing.remove(key)
        if let started = startedAt.removeValue(forKey: key) {
            metrics.workDuration.recordNanoseconds(Self.nanoseconds(clock.now - started))
        }
        if dirty.contains(key) { enqueue(key) }
    }

    /// Stops handing out keys: waiting workers get nil, and adds are ignored.
    public func shutDown() {
        shuttingDown = true
        timer?.task.cancel()
        timer = nil
        let waiting = waiters
        waiters.removeAll()
        for waiter in waiting { waiter.resume(returning: nil) }
    }

    public var depth: Int { queue.count - queueHead }

    /// Whether `key` is queued, being processed, or waiting out a delay: false means it is handed out again only
    /// after another `add`.
    func holds(_ key: Key) -> Bool {
        dirty.contains(key) || processing.contains(key) || delayedUntil[key] != nil
    }

    /// How long the longest key still being processed has been (client-go's
    /// `workqueue_longest_running_processor_seconds`); zero when none is.
    public var longestRunningProcessor: Duration {
        let now = clock.now
        return startedAt.values.map { now - $0 }.max() ?? .zero
    }

    public var isShuttingDown: Bool { shuttingDown }

    private func scheduleTimer() {
        guard !shuttingDown, let next = delayedUntil.values.min() else { return }
        if let timer, timer.deadline <= next { return }
        timer?.task.cancel()
        let task = Task { [weak self] in
            try? await Task.sleep(until: next, clock: ContinuousClock())
            guard !Task.isCancelled else { return }
            await self?.fireDue()
        }
        timer = (task, next)
    }

    private func fireDue() {
        timer = nil
        let now = clock.now
        for (key, deadline) in delayedUntil where deadline <= now {
            delayedUntil[key] = nil
            add(key)
        }
        scheduleTimer()
    }

    private func enqueue(_ key: Key) {
        if let waiter = waiters.first {
            waiters.removeFirst()
            hand(key)
            waiter.resume(returning: key)
        } else {
            queue.append(key)
            metrics.depth.record(depth)
        }
    }

    private func dequeue() -> Key? {
        guard queueHead < queue.count else { return nil }
        let key = queue[queueHead]
        queueHead += 1
        // Compact now and then so the array does not grow without bound.
        if queueHead > 1024, queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        metrics.depth.record(depth)
        hand(key)
        return key
    }

    private func hand(_ key: Key) {
        dirty.remove(key)
        processing.insert(key)
        let now = clock.now
        if let added = addedAt.removeValue(forKey: key) {
            metrics.queueDuration.recordNanoseconds(Self.nanoseconds(now - added))
        }
        startedAt[key] = now
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}

/// client-go's workqueue metric names, labelled with the queue's name, so existing dashboards work.
struct WorkQueueMetrics: Sendable {
    let depth: Gauge
    let adds: Counter
    let retries: Counter
    let queueDuration: Timer
    let workDuration: Timer

    init(name: String, factory: (any MetricsFactory)?) {
        let dimensions = [("name", name), ("controller", name)]
        if let factory {
            depth = Gauge(label: "workqueue_depth", dimensions: dimensions, factory: factory)
            adds = Counter(label: "workqueue_adds_total", dimensions: dimensions, factory: factory)
            retries = Counter(label: "workqueue_retries_total", dimensions: dimensions, factory: factory)
            queueDuration = Timer(label: "workqueue_queue_duration_seconds", dimensions: dimensions, factory: factory)
            workDuration = Timer(label: "workqueue_work_duration_seconds", dimensions: dimensions, factory: factory)
        } else {
            depth = Gauge(label: "workqueue_depth", dimensions: dimensions)
            adds = Counter(label: "workqueue_adds_total", dimensions: dimensions)
            retries = Counter(label: "workqueue_retries_total", dimensions: dimensions)
            queueDuration = Timer(label: "workqueue_queue_duration_seconds", dimensions: dimensions)
            workDuration = Timer(label: "workqueue_work_duration_seconds", dimensions: dimensions)
        }
    }
}
