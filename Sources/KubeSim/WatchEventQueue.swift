import Synchronization

/// The events waiting for one watch's reader. The reader takes everything that waits at once, so a reader that falls
/// behind catches up with one write of many events rather than one write (and one wake-up) per event. With a capacity,
/// an event that finds that many waiting is refused and the queue ends: its reader still gets what waits, then the end.
final class WatchEventQueue: Sendable {
    enum Outcome: Equatable {
        case queued
        /// The capacity was reached; the queue has ended.
        case overCapacity
        /// The queue had already ended.
        case ended
    }

    private struct State {
        var waiting: [WatchEvent] = []
        /// The reader, while it waits on an empty queue.
        var reader: CheckedContinuation<[WatchEvent]?, Never>?
        var ended = false
    }

    private let state: Mutex<State>
    private let capacity: Int?

    /// A queue holding `initial`, which takes at most `capacity` waiting events (nil: no bound).
    init(_ initial: [WatchEvent] = [], capacity: Int? = nil) {
        self.state = Mutex(State(waiting: initial))
        self.capacity = capacity
    }

    /// A queue that holds `events` and has already ended.
    static func ended(with events: [WatchEvent]) -> WatchEventQueue {
        let queue = WatchEventQueue(events)
        queue.end()
        return queue
    }

    @discardableResult
    func append(_ event: WatchEvent) -> Outcome {
        let (reader, outcome) = state.withLock { state -> (CheckedContinuation<[WatchEvent]?, Never>?, Outcome) in
            if state.ended { return (nil, .ended) }
            if let capacity, state.waiting.count >= capacity {
                state.ended = true
                return (nil, .overCapacity)
            }
            // A waiting reader means nothing else waits: hand it this event directly.
            if let reader = state.reader.take() { return (reader, .queued) }
            state.waiting.append(event)
            return (nil, .queued)
        }
        reader?.resume(returning: [event])
        return outcome
    }

    /// Ends the queue: what waits is still taken, then `take` returns nil.
    func end() {
        let reader = state.withLock { state in
            state.ended = true
            return state.reader.take()
        }
        reader?.resume(returning: nil)
    }

    /// Waits for at least one event and takes every event that waits, in order; nil once the queue has ended and
    /// nothing waits. Cancelling the reader ends the queue. One reader at a time.
    func take() async -> [WatchEvent]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> [WatchEvent]?? in
                    if !state.waiting.isEmpty {
                        defer { state.waiting = [] }
                        return .some(state.waiting)
                    }
                    if state.ended { return .some(nil) }
                    precondition(state.reader == nil, "a watch's events have one reader")
                    state.reader = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            end()
        }
    }
}

extension WatchEventQueue: AsyncSequence {
    /// One event at a time, for readers that handle each on its own.
    struct AsyncIterator: AsyncIteratorProtocol {
        let queue: WatchEventQueue
        var batch: [WatchEvent] = []
        var position = 0

        mutating func next() async -> WatchEvent? {
            if position == batch.count {
                guard let taken = await queue.take() else { return nil }
                batch = taken
                position = 0
            }
            defer { position += 1 }
            return batch[position]
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: self) }
}
