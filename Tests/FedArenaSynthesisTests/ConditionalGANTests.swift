import FedArenaCore
import FedArenaNumerics
@testable import FedArenaSynthesis
import Testing

@Suite struct ConditionalGANTests {
    /// Two classes in 8 dimensions: class means 0.3 and 0.5 (Fixtures.lowRank).
    private var tiny: LabeledSamples { Fixtures.lowRank(classes: 2, perClass: 40, d: 8, scales: [0.1, 0.05], noise: 0.02).samples }

    private func tinyConfiguration(_ loss: ConditionalGAN.Loss, spectralNorm: Bool = true) -> ConditionalGAN.Configuration {
        var c = ConditionalGAN.Configuration()
        c.latent = 3
        c.generatorHidden = [5]
        c.discriminatorHidden = [4, 3]
        c.batchSize = 3
        c.loss = loss
        c.spectralNorm = spectralNorm
        c.labelSmoothing = loss == .nonSaturating ? 0.1 : 0
        return c
    }

    /// A trainer at a random point (every parameter perturbed) with one batch loaded.
    private func trainer(_ configuration: ConditionalGAN.Configuration) -> GANTrainer {
        let samples = tiny
        let shape = ConditionalGAN.Layout(
            d: 8, classes: 2, latent: configuration.latent, generatorHidden: configuration.generatorHidden,
            discriminatorHidden: configuration.discriminatorHidden)
        let trainer = GANTrainer(shape: shape, configuration: configuration, batch: 3)
        trainer.initialise(samples, seed: 5)
        var rng = SeededGenerator(seed: 6)
        for i in 0..<shape.generatorCount { trainer.generator.pointer[i] += Float(rng.normal() * 0.3) }
        for i in 0..<shape.discriminatorCount { trainer.discriminator.pointer[i] += Float(rng.normal() * 0.3) }
        trainer.powerIterate()
        trainer.loadRealBatch(samples, rows: [0, 41, 7][...])
        trainer.fillNoise(&rng)
        trainer.fakeLabels = [1, 0, 1]
        return trainer
    }

    /// Central differences of `loss` in every coordinate of `buffer`, against `analytic`.
    private func check(_ buffer: ScratchBuffer, analytic: [Float], loss: () -> Double) {
        let h: Float = 2e-3
        for i in 0..<buffer.count {
            let saved = buffer.pointer[i]
            buffer.pointer[i] = saved + h
            let plus = loss()
            buffer.pointer[i] = saved - h
            let minus = loss()
            buffer.pointer[i] = saved
            let numeric = (plus - minus) / (2 * Double(h))
            let error = abs(Double(analytic[i]) - numeric) / (1e-2 + abs(numeric))
            #expect(error < 0.05, "parameter \(i): analytic \(analytic[i]), numeric \(numeric)")
        }
    }

    @Test(arguments: [ConditionalGAN.Loss.nonSaturating, .hinge])
    func discriminatorGradientMatchesFiniteDifferencesThroughSpectralNorm(_ loss: ConditionalGAN.Loss) {
        let t = trainer(tinyConfiguration(loss))
        _ = t.discriminatorLossAndGradient()
        let analytic = t.discriminatorGradient.array
        // σ = uᵀ W v with u, v fixed is what the gradient differentiates; normalise() recomputes it.
        check(t.discriminator, analytic: analytic) { t.discriminatorLossAndGradient() }
    }

    @Test(arguments: [ConditionalGAN.Loss.nonSaturating, .hinge])
    func generatorGradientMatchesFiniteDifferences(_ loss: ConditionalGAN.Loss) {
        let t = trainer(tinyConfiguration(loss, spectralNorm: false))
        _ = t.generatorLossAndGradient()
        let analytic = t.generatorGradient.array
        check(t.generator, analytic: analytic) { t.generatorLossAndGradient() }
    }

    @Test func spectralNormOfTheNormalisedMatricesIsOne() {
        let t = trainer(tinyConfiguration(.hinge))
        for _ in 0..<50 { t.powerIterate() }
        t.normalise()
        // The head w̄ is a vector: its spectral norm is its Euclidean norm, exactly 1 after one iteration.
        let shape = t.shape
        let head = (0..<3).map { Double(t.normalised.pointer[shape.head + $0]) }
        #expect(abs(head.reduce(0) { $0 + $1 * $1 }.squareRoot() - 1) < 1e-5)
        // The 4 x 3 second-layer matrix: its largest singular value, from the eigenvalues of W̄ᵀW̄ (Jacobi, Double).
        let w = (0..<12).map { Double(t.normalised.pointer[shape.discriminatorWeights[1] + $0]) }
        var gram = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for r in 0..<4 { gram[i * 3 + j] += w[r * 3 + i] * w[r * 3 + j] } } }
        let largest = Spectral.symmetricEigen(gram, n: 3).values.max()!
        #expect(abs(largest.squareRoot() - 1) < 1e-3)
    }

    @Test(arguments: [ConditionalGAN.Loss.nonSaturating, .hinge])
    func fitLearnsTheClassMeans(_ loss: ConditionalGAN.Loss) throws {
        var c = ConditionalGAN.Configuration()
        c.loss = loss
        c.labelSmoothing = loss == .hinge ? 0 : 0.1
        c.latent = 4
        c.generatorHidden = [32]
        c.discriminatorHidden = [32]
        c.steps = 400
        c.batchSize = 16
        c.learningRate = 2e-3
        c.discriminatorLearningRate = 2e-3
        var gan = try ConditionalGAN(c)
        var rng = SeededGenerator(seed: 2)
        try gan.fit(tiny, using: &rng)
        #expect(gan.generatorLoss.count == 400 && gan.discriminatorLoss.count == 400)
        // Real class means are 0.3 and 0.5 (per feature, by construction of the fixture). The
        // untrained generator's output bias is the overall mean, 0.4, for both classes.
        for label in 0..<2 {
            let drawn = try gan.sample(count: 200, label: label, temperature: 1, using: &rng)
            let mean = Double(drawn.features.reduce(0, +)) / Double(drawn.features.count)
            let target = 0.3 + 0.2 * Double(label)
            #expect(abs(mean - target) < 0.05, "class \(label): mean \(mean), real \(target)")
        }
    }

    @Test func deterministicShapesAndRange() throws {
        func run(_ seed: UInt64) throws -> (ConditionalGAN, LabeledSamples) {
            var c = tinyConfiguration(.hinge)
            c.steps = 5
            var gan = try ConditionalGAN(c)
            var rng = SeededGenerator(seed: seed)
            try gan.fit(tiny, using: &rng)
            return (gan, try gan.sample(count: 12, label: nil, temperature: 1, using: &rng))
        }
        let (first, drawn) = try run(3)
        let (second, again) = try run(3)
        #expect(first.generatorParameters == second.generatorParameters)
        #expect(drawn == again)
        #expect(drawn != (try run(4)).1)
        #expect(drawn.count == 12 && drawn.featureCount == 8 && drawn.classCount == 2)
        #expect(drawn.features.allSatisfy { $0 >= 0 && $0 <= 1 })
        var rng = SeededGenerator(seed: 0)
        #expect(throws: GeneratorError.self) { try ConditionalGAN().sample(count: 1, label: 0, temperature: 1, using: &rng) }
    }

    @Test func rejectsImpossibleOptionsNamingTheKey() {
        func message(_ change: (inout ConditionalGAN.Configuration) -> Void) -> String {
            var c = ConditionalGAN.Configuration()
            change(&c)
            do {
                _ = try ConditionalGAN(c)
                return "accepted"
            } catch {
                return error.message
            }
        }
        #expect(message { $0.steps = 0 } == "gan: steps must be ≥ 1, got 0")
        #expect(message { $0.generatorHidden = [] }.hasPrefix("gan: generator_hidden must be"))
        #expect(message { $0.discriminatorHidden = [64, 0] }.hasPrefix("gan: discriminator_hidden must be"))
        #expect(message { $0.learningRate = -1 }.hasPrefix("gan: lr must be finite and > 0"))
        #expect(message { $0.batchSize = 1 }.hasPrefix("gan: batch_size"))
        #expect(message { $0.loss = .hinge }.hasPrefix("gan: label_smoothing must be 0 with the hinge loss"))
        #expect(message { $0.loss = .hinge; $0.labelSmoothing = 0 } == "accepted")
        #expect(message { $0.beta1 = 1 }.hasPrefix("gan: beta1"))
        #expect(message { $0.ema = 1 }.hasPrefix("gan: ema"))
        #expect(message { _ in } == "accepted")
    }
}
