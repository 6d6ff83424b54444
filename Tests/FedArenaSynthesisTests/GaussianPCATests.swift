import FedArenaCore
import FedArenaNumerics
import FedArenaSynthesis
import Testing

@Suite struct GaussianPCATests {
    @Test func recoversKnownLowRankStructure() throws {
        let (samples, directions) = Fixtures.lowRank(classes: 1, perClass: 400, d: 12)
        var generator = try GaussianPCA(components: 2)
        var rng = SeededGenerator(seed: 7)
        try generator.fit(samples, using: &rng)
        let model = try #require(generator.classes[0])
        #expect(model.components == 2)
        // Variances near 0.12² and 0.06² (sampling error ~ 10%), descending.
        #expect(abs(model.variances[0] / (0.12 * 0.12) - 1) < 0.2)
        #expect(abs(model.variances[1] / (0.06 * 0.06) - 1) < 0.2)
        // Each fitted direction lies in the true span: |projection| ≈ 1.
        for r in 0..<2 {
            let v = (0..<12).map { Double(model.directions[r * 12 + $0]) }
            let inSpan = directions.map { u in zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } }
            let projected = inSpan.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(projected > 0.99, "direction \(r) projects \(projected) onto the true span")
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) < 1e-4)
        }
        // Residual variance ≈ the iid noise variance.
        #expect(abs(model.residualVariance / (0.002 * 0.002) - 1) < 0.3)
    }

    @Test func sameSeedSameSamples() throws {
        let samples = Fixtures.lowRank(classes: 3, perClass: 20, d: 10).samples
        func run(_ seed: UInt64) throws -> LabeledSamples {
            var generator = try GaussianPCA(components: 3, residual: true)
            var rng = SeededGenerator(seed: seed)
            try generator.fit(samples, using: &rng)
            return try generator.sample(count: 30, label: nil, temperature: 1, using: &rng)
        }
        #expect(try run(5) == run(5))
        #expect(try run(5) != run(6))
    }

    @Test func shapesLabelsAndRange() throws {
        let samples = Fixtures.lowRank(classes: 3, perClass: 20, d: 10, scales: [0.5, 0.3]).samples
        var generator = try GaussianPCA(components: 2, residual: true)
        var rng = SeededGenerator(seed: 1)
        try generator.fit(samples, using: &rng)
        let drawn = try generator.sample(count: 25, label: 2, temperature: 1.5, using: &rng)
        #expect(drawn.count == 25 && drawn.featureCount == 10 && drawn.classCount == 3)
        #expect(drawn.labels.allSatisfy { $0 == 2 })
        #expect(drawn.features.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(drawn.features.contains { $0 == 0 } && drawn.features.contains { $0 == 1 }, "wide spread clips at both ends")
        let mixed = try generator.sample(count: 300, label: nil, temperature: 1, using: &rng)
        #expect(Set(mixed.labels) == [0, 1, 2])
        // Temperature 0 gives the class mean exactly.
        let atMean = try generator.sample(count: 2, label: 0, temperature: 0, using: &rng)
        let mean = try #require(generator.classes[0]).mean
        #expect(Array(atMean.features[0..<10]) == mean.map { min(max($0, 0), 1) })
    }

    @Test func tooFewSamplesNamesTheClass() throws {
        var samples = Fixtures.lowRank(classes: 2, perClass: 20, d: 10).samples
        samples = samples.subset(Array(0..<20) + Array(20..<24))  // class 1 keeps 4 samples
        var generator = try GaussianPCA(components: 5)
        var rng = SeededGenerator(seed: 1)
        #expect { try generator.fit(samples, using: &rng) } throws: { error in
            let message = (error as? GeneratorError)?.message ?? ""
            return message.contains("class 1") && message.contains("4 samples") && message.contains("6")
        }
        var shrinking = try GaussianPCA(components: 5, smallClasses: .shrink)
        try shrinking.fit(samples, using: &rng)
        #expect(shrinking.classes[1]?.components == 3)
        #expect(throws: GeneratorError.self) { try GaussianPCA(components: 0) }
        #expect(throws: GeneratorError.self) { try GaussianPCA().sample(count: 1, label: nil, temperature: 1, using: &rng) }
    }

    @Test func missingClassCannotBeDrawn() throws {
        let samples = Fixtures.lowRank(classes: 2, perClass: 20, d: 10).samples.subset(Array(0..<20))
        var generator = try GaussianPCA(components: 2)
        var rng = SeededGenerator(seed: 1)
        try generator.fit(samples, using: &rng)
        #expect(try generator.sample(count: 10, label: nil, temperature: 1, using: &rng).labels.allSatisfy { $0 == 0 })
        #expect { try generator.sample(count: 1, label: 1, temperature: 1, using: &rng) } throws: {
            (($0 as? GeneratorError)?.message ?? "").contains("class 1")
        }
    }
}
