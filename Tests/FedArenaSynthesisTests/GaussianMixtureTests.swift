import FedArenaCore
import FedArenaNumerics
import FedArenaSynthesis
import Testing

@Suite struct GaussianMixtureTests {
    /// Two well separated blobs per class in 4 dimensions.
    private func blobs(perBlob: Int = 30, seed: UInt64 = 3) -> LabeledSamples {
        var rng = SeededGenerator(seed: seed)
        var features = [Float]()
        var labels = [Int32]()
        for c in 0..<2 {
            for blob in 0..<2 {
                let centre: Float = blob == 0 ? 0.2 : 0.8
                for _ in 0..<perBlob {
                    for j in 0..<4 { features.append(centre + Float(c) * 0.05 * Float(j) + Float(rng.normal()) * 0.05) }
                    labels.append(Int32(c))
                }
            }
        }
        return LabeledSamples(features: features, labels: labels, featureCount: 4, classCount: 2)
    }

    @Test func logLikelihoodNeverFalls() throws {
        var generator = try GaussianMixture(components: 3, iterations: 40, tolerance: 0, varianceFloor: 1e-4)
        var rng = SeededGenerator(seed: 11)
        try generator.fit(blobs(), using: &rng)
        for c in 0..<2 {
            let history = try #require(generator.classes[c]).logLikelihoods
            #expect(history.count == 41)
            for i in 1..<history.count {
                #expect(history[i] >= history[i - 1] - 1e-6 * max(1, abs(history[i])), "class \(c) step \(i): \(history[i - 1]) → \(history[i])")
            }
            #expect(history.last! > history.first!)
        }
    }

    @Test func findsTheTwoBlobs() throws {
        var generator = try GaussianMixture(components: 2, varianceFloor: 1e-4)
        var rng = SeededGenerator(seed: 2)
        try generator.fit(blobs(perBlob: 40), using: &rng)
        let parts = try #require(generator.classes[0]).components
        let centres = parts.map { $0.mean[0] }.sorted()
        #expect(abs(centres[0] - 0.2) < 0.03 && abs(centres[1] - 0.8) < 0.03)
        #expect(parts.allSatisfy { abs($0.weight - 0.5) < 0.05 })
        #expect(parts.allSatisfy { $0.variance.allSatisfy { $0 > 0.0015 && $0 < 0.004 } })
    }

    @Test func determinismShapesAndRange() throws {
        func run(_ seed: UInt64) throws -> LabeledSamples {
            var generator = try GaussianMixture(components: 2, iterations: 10)
            var rng = SeededGenerator(seed: seed)
            try generator.fit(blobs(perBlob: 10), using: &rng)
            return try generator.sample(count: 20, label: 1, temperature: 1, using: &rng)
        }
        let drawn = try run(9)
        #expect(drawn == (try run(9)))
        #expect(drawn != (try run(10)))
        #expect(drawn.count == 20 && drawn.featureCount == 4 && drawn.labels.allSatisfy { $0 == 1 })
        #expect(drawn.features.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func varianceFloorHolds() throws {
        // A constant feature (like an always-black pixel) gets exactly the floor.
        let samples = LabeledSamples(
            features: (0..<20).flatMap { i in [Float(0), Float(i) / 20] }, labels: [Int32](repeating: 0, count: 20),
            featureCount: 2, classCount: 1)
        var generator = try GaussianMixture(components: 2, varianceFloor: 0.01)
        var rng = SeededGenerator(seed: 1)
        try generator.fit(samples, using: &rng)
        for part in try #require(generator.classes[0]).components { #expect(part.variance[0] == 0.01) }
    }

    @Test func errors() throws {
        let samples = blobs(perBlob: 10).subset(Array(0..<20) + [20, 21])  // class 1 has 2 samples
        var generator = try GaussianMixture(components: 3)
        var rng = SeededGenerator(seed: 1)
        #expect { try generator.fit(samples, using: &rng) } throws: {
            let message = ($0 as? GeneratorError)?.message ?? ""
            return message.contains("class 1") && message.contains("2 samples")
        }
        var shrinking = try GaussianMixture(components: 3, smallClasses: .shrink)
        try shrinking.fit(samples, using: &rng)
        #expect(shrinking.classes[1]?.components.count == 2)
        #expect(throws: GeneratorError.self) { try GaussianMixture(components: 0) }
        #expect(throws: GeneratorError.self) { try GaussianMixture(varianceFloor: 0) }
        let empty = LabeledSamples(features: [], labels: [], featureCount: 4, classCount: 2)
        #expect(throws: GeneratorError.self) { try generator.fit(empty, using: &rng) }
    }
}
