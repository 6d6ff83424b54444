import FedArenaCore
import FedArenaNumerics
@testable import FedArenaSynthesis
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

    @Test func trainOnSyntheticTestOnReal() throws {
        // Two well-separated classes (means 0.3 and 0.5 per feature): copies of real data with
        // their labels teach the classifier; the same samples with swapped labels teach it backwards.
        let train = Fixtures.lowRank(classes: 2, perClass: 60, d: 8, scales: [0.05], noise: 0.01, seed: 1).samples
        let test = Fixtures.lowRank(classes: 2, perClass: 60, d: 8, scales: [0.05], noise: 0.01, seed: 2).samples
        #expect(try Fidelity.tstrAccuracy(train: train, test: test, seed: 1) > 0.95)
        var swapped = train
        swapped.labels = swapped.labels.map { 1 - $0 }
        #expect(try Fidelity.tstrAccuracy(train: swapped, test: test, seed: 1) < 0.05)
    }

    @Test func memorisationSeparatesCopiesFromFreshSamples() throws {
        let training = real(seed: 1)
        let heldOut = real(seed: 2)
        // Distances by hand: (0, 0) and (3, 4) against (0, 1) and (6, 8): nearest 1 and min(√18, 5) = √18 ≈ 4.2426.
        #expect(Fidelity.nearestDistances(from: [0, 0, 3, 4], to: [0, 1, 6, 8], dimension: 2).map { ($0 * 1e4).rounded() / 1e4 } == [1, 4.2426])
        let copies = try Fidelity.evaluate(real: heldOut, synthetic: training, training: training, seed: 1)
        #expect(try #require(copies.nearestTrainingDistance) < 0.01 && copies.copyShare == 1)
        let fresh = try Fidelity.evaluate(real: heldOut, synthetic: real(seed: 3), training: training, seed: 1)
        #expect(try #require(fresh.copyShare) < 0.12)
        #expect(abs(try #require(fresh.nearestDistanceRatio) - 1) < 0.1)
        #expect(try Fidelity.evaluate(real: heldOut, synthetic: training).nearestTrainingDistance == nil)
        // numpy's default quantile: np.quantile([1, 2, 3, 4], 0.05) = 1.15
        #expect(abs(Fidelity.quantile([4, 1, 3, 2], 0.05) - 1.15) < 1e-12)
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
        #expect(lines[2] == "| gmm | 0.25 | 0.00 | 1.500 | 0.900 | 0.800 | 1.000 | 0.700 | 0.550 | - | - | - | - |")
        var full = metrics
        full.tstrAccuracy = 0.75
        full.nearestTrainingDistance = 3
        full.heldOutNearestTrainingDistance = 4
        full.copyShare = 0.125
        let fullLine = FidelityRow.markdown([FidelityRow(name: "gan", metrics: full, fitSeconds: 1, sampleSeconds: 0, fitCPUSeconds: 0.5)]).split(separator: "\n")[2]
        #expect(fullLine == "| gan | 1.00 | 0.50 | 1.500 | 0.900 | 0.800 | 1.000 | 0.700 | 0.550 | 0.750 | 3.00 | 0.75 | 0.125 |")
        #expect(throws: SynthesisError.self) { try Fidelity.evaluate(real: real(seed: 1), synthetic: Fixtures.noise(count: 3, d: 16, classes: 2, seed: 1)) }
    }
}
