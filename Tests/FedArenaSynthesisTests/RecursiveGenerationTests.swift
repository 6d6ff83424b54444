import FedArenaCore
import FedArenaNumerics
import FedArenaSynthesis
import Foundation
import Testing

@Suite struct RecursiveGenerationTests {
    @Test func varianceFallsAcrossGenerations() throws {
        // Rank-3 structure plus isotropic noise in 12 dimensions; a 2-component PCA without
        // the residual drops the third direction and the noise at once, and finite samples keep
        // shrinking what is left (Shumailov et al. 2024).
        let data = Fixtures.lowRank(classes: 2, perClass: 40, d: 12, scales: [0.15, 0.1, 0.08], noise: 0.03).samples
        var rng = SeededGenerator(seed: 8)
        let generations = try RecursiveGeneration.run(
            generator: try GaussianPCA(components: 2), data: data, generations: 12, samplesPerClass: 5, rng: &rng)
        #expect(generations.map(\.index) == Array(1...12))
        #expect(generations.allSatisfy { $0.samples.count == 10 })
        for c in 0..<2 {
            let real = Fixtures.classVariance(data, label: c)
            let variances = generations.map { $0.classVariance[c]! }
            #expect(abs(RecursiveGeneration.classVariance(data)[c]! - real) < 1e-6)
            #expect(variances[0] < real, "class \(c): \(real) → \(variances)")
            #expect(variances[11] < variances[0], "class \(c): \(variances)")
        }
    }

    @Test func errorsNameTheGeneration() throws {
        let data = Fixtures.lowRank(classes: 1, perClass: 10, d: 8).samples
        var rng = SeededGenerator(seed: 1)
        // Generation 2 trains on 3 samples per class: too few for 4 components.
        #expect { try RecursiveGeneration.run(generator: try GaussianPCA(components: 4), data: data, generations: 2, samplesPerClass: 3, rng: &rng) } throws: {
            (($0 as? SynthesisError)?.message ?? "").hasPrefix("generation 2")
        }
        #expect(throws: SynthesisError.self) { try RecursiveGeneration.run(generator: try GaussianPCA(), data: data, generations: 0, samplesPerClass: 5, rng: &rng) }
    }
}
