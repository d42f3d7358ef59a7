import KubeKit
import Testing

@testable import KubeSim

/// A watch's reader takes everything that waits in one step, in order; a capacity ends the queue instead of growing
/// it; cancelling the reader ends the queue as AsyncStream's iteration does.
@Suite struct WatchEventQueueTests {
    private func event(_ name: String) -> KubeSim.WatchEvent {
        KubeSim.WatchEvent(type: "ADDED", object: ["metadata": ["name": .string(name)]])
    }

    @Test func aReaderTakesEverythingThatWaitsInOrder() async throws {
        let queue = WatchEventQueue([event("a"), event("b")])
        #expect(queue.append(event("c")) == .queued)
        let batch = try #require(await queue.take())
        #expect(batch.map(\.object.metadataName) == ["a", "b", "c"])

        // A reader that waits on an empty queue gets the next event as soon as it comes.
        async let next = queue.take()
        #expect(queue.append(event("d")) == .queued)
        #expect(await next?.map(\.object.metadataName) == ["d"])
    }

    @Test func reachingTheCapacityEndsTheQueueAfterWhatWaits() async {
        let queue = WatchEventQueue([event("initial")], capacity: 2)
        #expect(queue.append(event("live")) == .queued)
        #expect(queue.append(event("one too many")) == .overCapacity)
        #expect(queue.append(event("after the end")) == .ended)
        #expect(await queue.take()?.map(\.object.metadataName) == ["initial", "live"])
        #expect(await queue.take() == nil)
    }

    @Test func endingWakesAWaitingReaderWithTheEnd() async {
        let queue = WatchEventQueue()
        async let next = queue.take()
        queue.end()
        #expect(await next == nil)
        #expect(queue.append(event("late")) == .ended)
    }

    @Test func cancellingTheReaderEndsTheQueue() async {
        let queue = WatchEventQueue()
        let reader = Task { await queue.take() }
        reader.cancel()
        #expect(await reader.value == nil)
        #expect(queue.append(event("late")) == .ended)
    }

    @Test func theSequenceGivesOneEventAtATime() async {
        let queue = WatchEventQueue.ended(with: [event("a"), event("b"), event("c")])
        var names: [String?] = []
        for await event in queue { names.append(event.object.metadataName) }
        #expect(names == ["a", "b", "c"])
    }
}
