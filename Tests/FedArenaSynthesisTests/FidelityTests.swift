import FedArenaCore
import FedArenaNumerics
import FedArenaSynthesis
import Testing

@Suite struct FidelityTests {
    private func real(seed: UInt64) -> LabeledSamples {
        Fixtures.lowRank(classes: 2, perClass: 150, d: 16, scales: [0.15, 0.1], noise: 0.005, seed: seed).samples
    }

    @Test func realAgainstRealLooksReal() throws {
        let metrics = try Fidelity.evaluate(real: real(seed: 1), synthetic: real(seed: 2), seed: 1)
        #expect(metrics.precision > 0.7 && metrics.recall > 0.7 && metrics.coverage > 0.7, "\(metrics)")
        #expect(metrics.density > 0.6 && metrics.density < 1.5)
        #expect(abs(metrics.c2stAccuracy - 0.5) < 0.12, "\(metrics)")
        let noise = try Fidelity.evaluate(real: real(seed: 1), synthetic: Fixtures.noise(count: 300, d: 16, classes: 2, seed: 3), seed: 1)
        #expect(noise.frechetDistance > 10 * metrics.frechetDistance, "\(noise) vs \(metrics)")
        #expect(noise.precision < 0.2 && noise.coverage < 0.2)
        #expect(noise.c2stAccuracy > 0.8 && noise.c2stAccuracy > metrics.c2stAccuracy + 0.25)
    }

    @Test func frechetDistanceOfShiftedGaussians() {
        // Same covariance, means 0 and 1 along every one of 3 axes: FD = ‖Δμ‖² ≈ 3.
        var rng = SeededGenerator(seed: 1)
        let a = (0..<(3000 * 3)).map { _ in Float(rng.normal()) }
        let b = (0..<(3000 * 3)).map { _ in Float(rng.normal() + 1) }
        #expect(abs(Fidelity.frechetDistance(a, b, dimension: 3) - 3) < 0.25)
        #expect(Fidelity.frechetDistance(a, a, dimension: 3) < 1e-6)
    }

    @Test func markdownTable() throws {
        let metrics = FidelityMetrics(
            frechetDistance: 1.5, precision: 0.9, recall: 0.8, density: 1, coverage: 0.7, c2stAccuracy: 0.55, realCount: 10, syntheticCount: 10)
        let table = FidelityRow.markdown([FidelityRow(name: "gmm", metrics: metrics, fitSeconds: 0.25, sampleSeconds: 0)])
        let lines = table.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[2] == "| gmm | 0.25 | 1.500 | 0.900 | 0.800 | 1.000 | 0.700 | 0.550 |")
        #expect(throws: SynthesisError.self) { try Fidelity.evaluate(real: real(seed: 1), synthetic: Fixtures.noise(count: 3, d: 16, classes: 2, seed: 1)) }
    }
}
