import FedArenaCore
import FedArenaNumerics
@testable import FedArenaSynthesis
import Foundation
import Testing

@Suite struct ConditionalDiffusionTests {
    /// Two classes in 8 dimensions: class means 0.3 and 0.5 (Fixtures.lowRank).
    private var tiny: LabeledSamples { Fixtures.lowRank(classes: 2, perClass: 40, d: 8, scales: [0.1, 0.05], noise: 0.02).samples }

    @Test func schedulesMatchTheirClosedForms() {
        // python3: T=3, β_t = 1e-4 + (0.02 − 1e-4)·t/(T − 1), ᾱ = cumprod(1 − β)
        let linear = ConditionalDiffusion.cumulativeAlphas(schedule: .linear, timesteps: 3)
        for (value, expected) in zip(linear, [0.9999, 0.989851005, 0.9700539849]) { #expect(abs(value - expected) < 1e-12) }
        // python3: T=4, f(t) = cos²(((t/T) + 0.008)/1.008 · π/2), β_t = min(1 − f(t)/f(t−1), 0.999),
        // ᾱ = cumprod(1 − β); the last β is clipped.
        let cosine = ConditionalDiffusion.cumulativeAlphas(schedule: .cosine, timesteps: 4)
        for (value, expected) in zip(cosine, [0.8470121613269047, 0.4938435904406378, 0.14427210238573585, 0.00014427210238573596]) {
            #expect(abs(value - expected) < 1e-12)
        }
        #expect(ConditionalDiffusion.samplingTimesteps(timesteps: 1_000, steps: 4) == [250, 500, 750, 1_000])
        #expect(ConditionalDiffusion.samplingTimesteps(timesteps: 10, steps: 3) == [4, 7, 10])
        #expect(ConditionalDiffusion.samplingTimesteps(timesteps: 5, steps: 5) == [1, 2, 3, 4, 5])
    }

    /// With the exact noise predictor of Gaussian data x₀ ~ N(μ, s²),
    /// `E[ε | x_t] = √(1 − ᾱ) (x_t − √ᾱ μ) / (ᾱ s² + 1 − ᾱ)`, DDIM must return N(μ, s²) samples.
    /// (η = 1 with few steps is the ancestral sampler's coarse discretisation, 500 steps here.)
    @Test(arguments: [(0.0, 50), (1.0, 500)])
    func ddimWithTheExactPredictorRecoversAGaussian(eta: Double, stepCount: Int) {
        let (mu, s) = (0.2, 0.25)
        let alphaBar = ConditionalDiffusion.cumulativeAlphas(schedule: .cosine, timesteps: 1_000)
        let steps = ConditionalDiffusion.samplingTimesteps(timesteps: 1_000, steps: stepCount)
        var rng = SeededGenerator(seed: 8)
        let start = rng.standardNormals(4_000)
        let samples = ConditionalDiffusion.ddim(start, alphaBar: alphaBar, timesteps: steps, eta: eta, temperature: 1, using: &rng) { x, t in
            let a = alphaBar[t - 1]
            return x.map { Float((1 - a).squareRoot() * (Double($0) - a.squareRoot() * mu) / (a * s * s + 1 - a)) }
        }
        let mean = samples.reduce(0.0) { $0 + Double($1) } / Double(samples.count)
        let std = (samples.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(samples.count - 1)).squareRoot()
        #expect(abs(mean - mu) < 0.02, "mean \(mean)")
        #expect(abs(std - s) < 0.02, "std \(std)")
    }

    @Test func preconditioningHasTheClosedFormsOfKarrasEtAl() {
        // With s = 1: σ² + s² = 1/ᾱ, so input = 1/(√(1/ᾱ) √ᾱ) = 1, skip = 1/((1/ᾱ) √ᾱ) = √ᾱ, out = σ/√(1/ᾱ) = √(1 − ᾱ).
        let k = ConditionalDiffusion.coefficients(.edm, alphaBar: 0.3, scales: [1])
        #expect(abs(k.input[0] - 1) < 1e-6 && abs(k.skip[0] - Float(0.3.squareRoot())) < 1e-6 && abs(k.out[0] - Float(0.7.squareRoot())) < 1e-6)
        let plain = ConditionalDiffusion.coefficients(.epsilon, alphaBar: 0.3, scales: [0.5, 2])
        #expect(plain.input == [1, 1] && plain.out == [1, 1])
        // The training target (z₀ − skip · z_t) / out has unit variance when z₀ ~ N(0, s²) (Karras et al. 2022, §B.6).
        var rng = SeededGenerator(seed: 11)
        for (s, a) in [(0.3, 0.5), (2.0, 0.01), (0.05, 0.99)] {
            let c = ConditionalDiffusion.coefficients(.edm, alphaBar: a, scales: [Float(s)])
            var total = 0.0
            let n = 20_000
            for _ in 0..<n {
                let z0 = rng.normal() * s, e = rng.normal()
                let zt = a.squareRoot() * z0 + (1 - a).squareRoot() * e
                let target = (z0 - Double(c.skip[0]) * zt) / Double(c.out[0])
                total += target * target
            }
            #expect(abs(total / Double(n) - 1) < 0.04, "s \(s), ᾱ \(a): \(total / Double(n))")
        }
    }

    @Test func principalCoordinatesRoundTrip() throws {
        // With as many components as features the rotation is complete: decoding recovers the data.
        var rng = SeededGenerator(seed: 1)
        let (z, system) = ConditionalDiffusion.project(tiny, components: 8, using: &rng)
        #expect(system.dimension == 8 && system.directions.count == 64 && z.count == 80 * 8)
        #expect(zip(system.scales, system.scales.dropFirst()).allSatisfy { $0 >= $1 })
        var model = try ConditionalDiffusion(small(steps: 1))
        var fitRng = SeededGenerator(seed: 1)
        try model.fit(tiny, using: &fitRng)
        let decoded = ConditionalDiffusion(fitted: model, coordinates: system).decode(z)
        #expect(zip(decoded, tiny.features).allSatisfy { abs($0 - $1) < 1e-4 })
        // Fewer components than the data needs: capped at n − 1 for a tiny set.
        let three = tiny.subset([0, 1, 2])
        #expect(ConditionalDiffusion.project(three, components: 128, using: &rng).coordinates.dimension == 2)
        #expect(ConditionalDiffusion.project(three, components: 0, using: &rng).coordinates.dimension == 8)
    }

    @Test func gradientMatchesFiniteDifferences() {
        var c = ConditionalDiffusion.Configuration()
        c.hidden = 4
        c.layers = 2
        c.timeFeatures = 4
        let shape = ConditionalDiffusion.Layout(d: 5, classes: 2, configuration: c)
        let network = DenoiserNetwork(shape: shape, rows: 3)
        var rng = SeededGenerator(seed: 3)
        let theta = ScratchBuffer(shape.count)
        theta.load(rng.standardNormals(shape.count).map { $0 * 0.5 })
        let x = rng.standardNormals(15), time = rng.standardNormals(12), target = rng.standardNormals(15)
        let labels: [Int32] = [0, 2, 1]  // 2 is the null class
        func loss(_ gradient: ScratchBuffer) -> Double {
            network.lossAndGradient(theta.pointer, x: x, time: time, labels: labels, target: target, rows: 3, gradient: gradient.pointer)
        }
        let gradient = ScratchBuffer(shape.count)
        _ = loss(gradient)
        let analytic = gradient.array
        let h: Float = 2e-3
        let scratch = ScratchBuffer(shape.count)
        for i in 0..<shape.count {
            let saved = theta.pointer[i]
            theta.pointer[i] = saved + h
            let plus = loss(scratch)
            theta.pointer[i] = saved - h
            let minus = loss(scratch)
            theta.pointer[i] = saved
            let numeric = (plus - minus) / (2 * Double(h))
            let error = abs(Double(analytic[i]) - numeric) / (1e-2 + abs(numeric))
            #expect(error < 0.05, "parameter \(i): analytic \(analytic[i]), numeric \(numeric)")
        }
    }

    private func small(steps: Int = 600) -> ConditionalDiffusion.Configuration {
        var c = ConditionalDiffusion.Configuration()
        c.hidden = 32
        c.layers = 2
        c.timeFeatures = 8
        c.timesteps = 100
        c.samplingSteps = 20
        c.steps = steps
        c.batchSize = 32
        c.learningRate = 3e-3
        c.guidance = 0  // guidance pushes class means apart on purpose (Ho and Salimans 2022)
        return c
    }

    @Test func fitLearnsTheClassMeans() throws {
        var model = try ConditionalDiffusion(small())
        var rng = SeededGenerator(seed: 2)
        try model.fit(tiny, using: &rng)
        #expect(model.lossHistory.count == 6)
        #expect(model.lossHistory.last! < model.lossHistory.first!, "\(model.lossHistory)")
        // Real class means are 0.3 and 0.5 per feature (by construction of the fixture).
        for label in 0..<2 {
            let drawn = try model.sample(count: 200, label: label, temperature: 1, using: &rng)
            let mean = Double(drawn.features.reduce(0, +)) / Double(drawn.features.count)
            let target = 0.3 + 0.2 * Double(label)
            #expect(abs(mean - target) < 0.05, "class \(label): mean \(mean), real \(target)")
        }
    }

    @Test func deterministicShapesAndRange() throws {
        func run(_ seed: UInt64) throws -> (ConditionalDiffusion, LabeledSamples) {
            var model = try ConditionalDiffusion(small(steps: 3))
            var rng = SeededGenerator(seed: seed)
            try model.fit(tiny, using: &rng)
            return (model, try model.sample(count: 12, label: nil, temperature: 1, using: &rng))
        }
        let (first, drawn) = try run(3)
        let (second, again) = try run(3)
        #expect(first.parameters == second.parameters)
        #expect(drawn == again)
        #expect(drawn != (try run(4)).1)
        #expect(drawn.count == 12 && drawn.featureCount == 8 && drawn.classCount == 2)
        #expect(drawn.features.allSatisfy { $0 >= 0 && $0 <= 1 })
        var rng = SeededGenerator(seed: 0)
        #expect(throws: GeneratorError.self) { try ConditionalDiffusion().sample(count: 1, label: 0, temperature: 1, using: &rng) }
    }

    @Test func rejectsImpossibleOptionsNamingTheKey() {
        func message(_ change: (inout ConditionalDiffusion.Configuration) -> Void) -> String {
            var c = ConditionalDiffusion.Configuration()
            change(&c)
            do {
                _ = try ConditionalDiffusion(c)
                return "accepted"
            } catch {
                return error.message
            }
        }
        #expect(message { $0.steps = 0 } == "diffusion: steps must be ≥ 1, got 0")
        #expect(message { $0.samplingSteps = 2_000 } == "diffusion: sampling_steps must be in 1…timesteps (1000), got 2000")
        #expect(message { $0.timeFeatures = 7 }.hasPrefix("diffusion: time_features must be even"))
        #expect(message { $0.learningRate = .nan }.hasPrefix("diffusion: lr"))
        #expect(message { $0.eta = 2 }.hasPrefix("diffusion: eta"))
        #expect(message { $0.labelDropout = 0 }.hasPrefix("diffusion: guidance must be 0 when label_dropout is 0"))
        #expect(message { $0.labelDropout = 0; $0.guidance = 0 } == "accepted")
    }
}
