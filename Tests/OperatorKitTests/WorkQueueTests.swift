import MetricsTestKit
import Testing

@testable import OperatorKit

@Suite("Work queue")
struct WorkQueueTests {
    @Test func aKeyIsQueuedOnceHoweverOftenItIsAdded() async {
        let queue = WorkQueue<String>(name: "test")
        await queue.add("a")
        await queue.add("b")
        await queue.add("a")
        #expect(await queue.depth == 2)
        #expect(await queue.next() == "a")
        #expect(await queue.next() == "b")
        #expect(await queue.depth == 0)
    }

    @Test func aKeyAddedWhileProcessingRunsAgainOnlyAfterDone() async {
        let queue = WorkQueue<String>(name: "test")
        await queue.add("a")
        let first = await queue.next()
        #expect(first == "a")
        // Added again while a worker holds it: not handed to a second worker.
        await queue.add("a")
        await queue.add("a")
        #expect(await queue.depth == 0)
        await queue.done("a")
        #expect(await queue.depth == 1)
        #expect(await queue.next() == "a")
        await queue.done("a")
        #expect(await queue.depth == 0)
    }

    @Test func aWaitingWorkerGetsTheNextKey() async {
        let queue = WorkQueue<String>(name: "test")
        async let received = queue.next()
        // Give the worker time to start waiting; the result does not depend on it.
        try? await Task.sleep(for: .milliseconds(20))
        await queue.add("late")
        #expect(await received == "late")
    }

    @Test func shutDownReleasesWaitingWorkersAndIgnoresAdds() async {
        let queue = WorkQueue<String>(name: "test")
        async let waiting = queue.next()
        try? await Task.sleep(for: .milliseconds(20))
        await queue.shutDown()
        #expect(await waiting == nil)
        await queue.add("ignored")
        #expect(await queue.next() == nil)
    }

    @Test func backoffDoublesFromFiveMillisecondsAndIsCapped() {
        let backoff = WorkQueue<String>.Backoff()
        #expect(backoff.delay(afterFailures: 0) == .milliseconds(5))
        #expect(backoff.delay(afterFailures: 1) == .milliseconds(10))
        #expect(backoff.delay(afterFailures: 10) == .milliseconds(5 * 1024))
        #expect(backoff.delay(afterFailures: 30) == .seconds(1000))
        #expect(backoff.delay(afterFailures: 10_000) == .seconds(1000))
    }

    @Test func rateLimitedKeysComeBackAndForgetResetsTheBackoff() async {
        let metrics = TestMetrics()
        let queue = WorkQueue<String>(
            name: "clusters", backoff: .init(base: .milliseconds(1), cap: .milliseconds(50)), metricsFactory: metrics)
        await queue.addRateLimited("a")
        await queue.addRateLimited("a")
        #expect(await queue.failureCount("a") == 2)
        #expect(await queue.next() == "a")
        await queue.done("a")
        await queue.forget("a")
        #expect(await queue.failureCount("a") == 0)
        #expect(metrics.counterTotal(label: "workqueue_retries_total") == 2)
        #expect(metrics.counterTotal(label: "workqueue_adds_total") == 1)
    }

    @Test func delayedAddsKeepTheEarliestDeadline() async {
        let queue = WorkQueue<String>(name: "test")
        await queue.add("a", after: .seconds(3600))
        await queue.add("a", after: .milliseconds(10))
        // The hour-long delay is superseded; the key arrives after the short one.
        #expect(await queue.next() == "a")
        await queue.done("a")
        await queue.add("b", after: .zero)
        #expect(await queue.depth == 1)
    }

    @Test func manyWorkersNeverHoldOneKeyAtOnce() async {
        let queue = WorkQueue<Int>(name: "test")
        let tracker = HeldKeys()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    while let key = await queue.next() {
                        await tracker.take(key)
                        await Task.yield()
                        await tracker.release(key)
                        await queue.done(key)
                    }
                }
            }
            for round in 0..<200 {
                await queue.add(round % 5)
                if round % 10 == 0 { await Task.yield() }
            }
            while true {
                let queued = await queue.depth
                let held = await tracker.holding
                if queued == 0, held == 0 { break }
                try? await Task.sleep(for: .milliseconds(5))
            }
            await queue.shutDown()
        }
        #expect(await tracker.overlaps == 0)
        #expect(await tracker.processed > 0)
    }
}

private actor HeldKeys {
    var held: Set<Int> = []
    var overlaps = 0
    var processed = 0
    var holding: Int { held.count }

    func take(_ key: Int) {
        if held.contains(key) { overlaps += 1 }
        held.insert(key)
        processed += 1
    }

    func release(_ key: Int) { held.remove(key) }
}
