import FedArenaCore
import FedArenaNumerics
@testable import FedArenaSynthesis
import Testing

@Suite struct ConditionalVAETests {
    private var tiny: LabeledSamples { Fixtures.lowRank(classes: 2, perClass: 24, d: 8, scales: [0.2, 0.1], noise: 0.02).samples }

    @Test func gradientMatchesFiniteDifferences() throws {
        let vae = try ConditionalVAE(latent: 2, hidden: 5, epochs: 1, batchSize: 3)
        let samples = tiny
        let shape = vae.layout(d: 8, classes: 2)
        var rng = SeededGenerator(seed: 4)
        let theta = (0..<shape.count).map { _ in Float(rng.normal() * 0.5) }
        let rows = [0, 30, 5]
        let noise = (0..<6).map { _ in Float(rng.normal()) }
        var trainer = VAETrainer(shape: shape, batch: 3, learningRate: 1e-3)
        _ = trainer.lossAndGradient(theta, samples: samples, rows: rows, noise: noise)
        let analytic = trainer.gradient
        let h: Float = 2e-3
        var worst = 0.0
        for i in 0..<shape.count {
            var plus = theta, minus = theta
            plus[i] += h
            minus[i] -= h
            let numeric = (trainer.lossAndGradient(plus, samples: samples, rows: rows, noise: noise)
                - trainer.lossAndGradient(minus, samples: samples, rows: rows, noise: noise)) / (2 * Double(h))
            let error = abs(Double(analytic[i]) - numeric) / (1e-2 + abs(numeric))
            worst = max(worst, error)
            #expect(error < 0.05, "parameter \(i): analytic \(analytic[i]), numeric \(numeric)")
        }
        #expect(worst < 0.05)
    }

    @Test func lossDecreasesOnATinySet() throws {
        var vae = try ConditionalVAE(latent: 2, hidden: 16, epochs: 15, batchSize: 8, learningRate: 1e-2)
        var rng = SeededGenerator(seed: 1)
        try vae.fit(tiny, using: &rng)
        #expect(vae.lossHistory.count == 15)
        #expect(vae.lossHistory.last! < vae.lossHistory.first!, "\(vae.lossHistory)")
        #expect(vae.lossHistory.suffix(3).reduce(0, +) < vae.lossHistory.prefix(3).reduce(0, +))
    }

    @Test func determinismShapesAndRange() throws {
        func run(_ seed: UInt64) throws -> LabeledSamples {
            var vae = try ConditionalVAE(latent: 2, hidden: 8, epochs: 2, batchSize: 8)
            var rng = SeededGenerator(seed: seed)
            try vae.fit(tiny, using: &rng)
            return try vae.sample(count: 12, label: nil, temperature: 1, using: &rng)
        }
        let drawn = try run(3)
        #expect(drawn == (try run(3)))
        #expect(drawn != (try run(4)))
        #expect(drawn.count == 12 && drawn.featureCount == 8 && drawn.classCount == 2)
        #expect(drawn.features.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(throws: GeneratorError.self) { try ConditionalVAE(latent: 0) }
        var rng = SeededGenerator(seed: 0)
        #expect(throws: GeneratorError.self) { try ConditionalVAE().sample(count: 1, label: 0, temperature: 1, using: &rng) }
    }
}
