import Foundation
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// Emu's replicas from the backlog, as a pure decision.
@Suite("Backlog scaler")
struct BacklogScalerTests {
    let scaling = VectorPipelineSpec.Scaling(
        mode: .backlog, minReplicas: 1, maxReplicas: 8, targetBacklogPerReplica: 1000, scaleUpCooldownSeconds: 30, scaleDownCooldownSeconds: 300)
    let start = Date(timeIntervalSince1970: 1_000_000)

    func decide(_ current: Int32?, _ backlog: Int64, lastScale: Date?, after seconds: TimeInterval) -> BacklogScaler.Decision {
        BacklogScaler.decide(current: current, backlog: backlog, scaling: scaling, lastScale: lastScale, now: start.addingTimeInterval(seconds))
    }

    @Test("a burst scales up within the maximum; a drained queue returns to the minimum after the cooldown")
    func burstAndDrain() {
        #expect(decide(nil, 0, lastScale: nil, after: 0) == .init(replicas: 1, wanted: 1, changed: true))
        #expect(decide(1, 20_000, lastScale: start, after: 5) == .init(replicas: 1, wanted: 8, changed: false))
        #expect(decide(1, 20_000, lastScale: start, after: 30) == .init(replicas: 8, wanted: 8, changed: true))
        #expect(decide(8, 4_500, lastScale: start, after: 100) == .init(replicas: 8, wanted: 5, changed: false))
        #expect(decide(8, 0, lastScale: start, after: 299) == .init(replicas: 8, wanted: 1, changed: false))
        #expect(decide(8, 0, lastScale: start, after: 300) == .init(replicas: 1, wanted: 1, changed: true))
        #expect(decide(3, 2_500, lastScale: start, after: 1_000) == .init(replicas: 3, wanted: 3, changed: false))
    }

    @Test("minReplicas 0 idles with none, but a waiting message gets a worker; new bounds apply at once")
    func bounds() {
        var idle = scaling
        idle.minReplicas = 0
        #expect(BacklogScaler.decide(current: 1, backlog: 0, scaling: idle, lastScale: nil, now: start).replicas == 0)
        #expect(BacklogScaler.decide(current: 0, backlog: 1, scaling: idle, lastScale: start, now: start.addingTimeInterval(30)).replicas == 1)
        var narrow = scaling
        narrow.maxReplicas = 2
        #expect(
            BacklogScaler.decide(current: 8, backlog: 50_000, scaling: narrow, lastScale: start, now: start) == .init(replicas: 2, wanted: 2, changed: true))
    }
}
