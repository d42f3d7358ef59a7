import KubeKit
import Testing

@Suite("Durations with units")
struct UnitDurationTests {
    @Test func goDurationsAsKubernetesWritesThem() {
        #expect(UnitDuration.goSeconds("1h30m") == 5_400)
        #expect(UnitDuration.goSeconds("1.5h") == 5_400)
        #expect(UnitDuration.goSeconds("250ms") == 0.25)
        #expect(UnitDuration.goSeconds("2µs") == 2e-6)
        #expect(UnitDuration.goSeconds("0") == 0)
        for invalid in ["", "5", "1d", "-1s", "1h 30m", "s"] {
            #expect(UnitDuration.goSeconds(invalid) == nil, "\(invalid)")
        }
    }

    @Test func wholeNumbersWithTheCallersUnits() {
        let days: [(String, Double)] = [("d", 86_400), ("h", 3_600)]
        #expect(UnitDuration.seconds("1d12h", units: days, wholeNumbers: true) == 129_600)
        #expect(UnitDuration.seconds("1.5d", units: days, wholeNumbers: true) == nil)
        #expect(UnitDuration.seconds("1m", units: days) == nil)
    }
}
