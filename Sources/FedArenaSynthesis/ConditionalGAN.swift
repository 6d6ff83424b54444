import FedArenaCore
import FedArenaNumerics
import Foundation

/// A class-conditional generative adversarial network (Goodfellow et al. 2014, "Generative
/// adversarial nets", NeurIPS; conditioning as in Mirza and Osindero 2014) with MLP generator
/// and discriminator, fitted on the client's own samples on the CPU.
///
/// ```
/// generator      h₁ = LReLU(z W₁ + E[y] + b₁)          z ~ N(0, I_latent); E[y] = one-hot y at the input
///                hₗ = LReLU(hₗ₋₁ Wₗ + bₗ)               widths `generatorHidden`
///                x  = sigmoid(h_L W_o + b_o)           in (0, 1), b_o = logit(mean pixel) at init
/// discriminator  g₁ = LReLU(x V̄₁ + c₁), gₘ = LReLU(gₘ₋₁ V̄ₘ + cₘ)   widths `discriminatorHidden`
///                D(x, y) = g_M · w̄ + c + P̄[y] · g_M    the projection discriminator (Miyato and Koyama 2018)
/// ```
///
/// **Losses** (``Loss``): `hinge` (Lim and Ye 2017; Miyato et al. 2018),
/// `L_D = E relu(1 − D(x)) + E relu(1 + D(G(z)))`, `L_G = −E D(G(z))`; or `non-saturating`
/// (Goodfellow et al. 2014), `L_D = E[s·softplus(−D(x)) + (1 − s)·softplus(D(x))] + E softplus(D(G(z)))`,
/// `L_G = E softplus(−D(G(z)))`, with one-sided label smoothing `s = 1 − labelSmoothing`
/// (Salimans et al. 2016, "Improved techniques for training GANs", NeurIPS).
///
/// **Stabilisers.** Spectral normalisation of every discriminator matrix (`V̄ = V / σ(V)`, σ
/// by one power iteration per discriminator step with a persistent `u`, the gradient taken
/// through σ with `u, v` held fixed: Miyato, Kataoka, Koyama and Yoshida 2018, "Spectral
/// normalization for generative adversarial networks", ICLR), Adam with β₁ = 0.5 (Radford,
/// Metz and Chintala 2016, DCGAN), and an exponential moving average of the generator's
/// weights, which is what ``sample(count:label:temperature:using:)`` draws from (Yazıcı et al.
/// 2019, "The unusual effectiveness of averaging in GAN training", ICLR), with decay
/// `min(ema, (1 + t) / (10 + t))` after generator step `t` so early weights wash out.
///
/// **Training.** `steps` generator updates, each after `discriminatorSteps` discriminator
/// updates on a real batch (the next rows of a per-epoch shuffle) and a fake batch with the
/// same labels. Generator batches draw labels from the empirical class frequencies.
///
/// **Determinism.** ``fit(_:using:)`` takes one 64-bit seed from the generator it is given
/// and derives `SeededGenerator(seed:, stream:)` streams from it: `[1]` initialisation,
/// `[2]` power-iteration start vectors, `[3, epoch]` the epoch's shuffle, `[4]` latent codes
/// and generator labels. Sampling draws labels, then latents, from the generator it is given.
/// Same data, seed and options give the same parameters bit for bit (BLAS kernels being equal).
///
/// A sample at temperature `T` decodes `z ~ N(0, T² I)` (`T < 1`: the "truncation" trade of
/// diversity for fidelity, Brock et al. 2019, by scaling rather than resampling).
public struct ConditionalGAN: Generator, Equatable {
    /// The adversarial loss.
    public enum Loss: String, Sendable, CaseIterable {
        /// The hinge loss.
        case hinge
        /// The non-saturating logistic loss.
        case nonSaturating = "non-saturating"
    }

    /// The hyper-parameters; the names in parentheses are the YAML keys.
    public struct Configuration: Sendable, Equatable {
        /// The latent dimension (`latent`).
        public var latent = 64
        /// Generator hidden widths, input side first (`generator_hidden`).
        public var generatorHidden = [256, 512]
        /// Discriminator hidden widths, input side first (`discriminator_hidden`).
        public var discriminatorHidden = [256, 128]
        /// Generator updates (`steps`).
        public var steps = 2_000
        /// Discriminator updates per generator update (`discriminator_steps`).
        public var discriminatorSteps = 1
        /// Samples per batch (`batch_size`), capped at the training set's size.
        public var batchSize = 64
        /// The generator's Adam step (`lr`).
        public var learningRate = 4e-4
        /// The discriminator's Adam step (`discriminator_lr`).
        public var discriminatorLearningRate = 4e-4
        /// Adam's β₁ (`beta1`).
        public var beta1 = 0.5
        /// Adam's β₂ (`beta2`).
        public var beta2 = 0.999
        /// The loss (`loss`).
        public var loss = Loss.nonSaturating
        /// Spectral normalisation of the discriminator (`spectral_norm`).
        public var spectralNorm = true
        /// One-sided label smoothing of the non-saturating loss (`label_smoothing`, 0 = off;
        /// must be 0 with the hinge loss; the YAML default is 0.1 for `non-saturating`, 0 for `hinge`).
        public var labelSmoothing = 0.1
        /// The generator EMA decay (`ema`, 0 = sample from the last weights).
        public var ema = 0.999
        /// The leaky ReLU slope of both networks (`leaky_slope`).
        public var leakySlope = 0.2

        /// The defaults (see the README for measured fit times): the non-saturating loss with
        /// label smoothing 0.1 gave visibly less saturated samples than the hinge loss on
        /// 600 Fashion-MNIST images at the same budget.
        public init() {}

        /// The first option out of range, as its YAML key and the reason (`nil` when all are valid).
        public var problem: (key: String, reason: String)? {
            func check(_ ok: Bool, _ key: String, _ rule: String, _ value: Any) -> (key: String, reason: String)? {
                ok ? nil : (key, "must be \(rule), got \(value)")
            }
            let checks: [() -> (key: String, reason: String)?] = [
                { check(latent >= 1, "latent", "≥ 1", latent) },
                { check(!generatorHidden.isEmpty && generatorHidden.allSatisfy { $0 >= 1 }, "generator_hidden", "a non-empty list of widths ≥ 1", generatorHidden) },
                { check(!discriminatorHidden.isEmpty && discriminatorHidden.allSatisfy { $0 >= 1 }, "discriminator_hidden", "a non-empty list of widths ≥ 1", discriminatorHidden) },
                { check(steps >= 1, "steps", "≥ 1", steps) },
                { check(discriminatorSteps >= 1, "discriminator_steps", "≥ 1", discriminatorSteps) },
                { check(batchSize >= 2, "batch_size", "≥ 2", batchSize) },
                { check(learningRate > 0 && learningRate.isFinite, "lr", "finite and > 0", learningRate) },
                { check(discriminatorLearningRate > 0 && discriminatorLearningRate.isFinite, "discriminator_lr", "finite and > 0", discriminatorLearningRate) },
                { check(beta1 >= 0 && beta1 < 1, "beta1", "in [0, 1)", beta1) },
                { check(beta2 >= 0 && beta2 < 1, "beta2", "in [0, 1)", beta2) },
                { check(labelSmoothing >= 0 && labelSmoothing < 0.5, "label_smoothing", "in [0, 0.5)", labelSmoothing) },
                { check(labelSmoothing == 0 || loss == .nonSaturating, "label_smoothing", "0 with the hinge loss (it smooths the logistic loss's targets)", labelSmoothing) },
                { check(ema >= 0 && ema < 1, "ema", "in [0, 1)", ema) },
                { check(leakySlope >= 0 && leakySlope < 1, "leaky_slope", "in [0, 1)", leakySlope) },
            ]
            for check in checks { if let problem = check() { return problem } }
            return nil
        }
    }

    public var name: String { "gan" }
    /// The hyper-parameters.
    public let configuration: Configuration
    /// The generator's parameters (its EMA when `ema > 0`) in ``Layout`` order; empty before fitting.
    public private(set) var generatorParameters: [Float] = []
    /// The discriminator's raw (not normalised) parameters after the last step.
    public private(set) var discriminatorParameters: [Float] = []
    /// The discriminator loss of the last discriminator step before each generator step.
    public private(set) var discriminatorLoss: [Double] = []
    /// The generator loss of each generator step.
    public private(set) var generatorLoss: [Double] = []
    /// Samples per class at fit time.
    public private(set) var classCounts: [Int] = []
    /// Features per sample, 0 before fitting.
    public private(set) var featureCount = 0

    /// Creates an untrained GAN.
    /// - Parameter configuration: the hyper-parameters (checked with ``Configuration/problem``).
    /// - Throws: ``GeneratorError`` naming the first option out of range.
    public init(_ configuration: Configuration = Configuration()) throws(GeneratorError) {
        if let problem = configuration.problem { throw GeneratorError("gan: \(problem.key) \(problem.reason)") }
        self.configuration = configuration
    }

    /// Offsets of the parameter blocks (row-major matrices `inputs x outputs`).
    ///
    /// Generator: `W₁ (latent x h₁), E (C x h₁), b₁, …, Wₗ (hₗ₋₁ x hₗ), bₗ, …, W_o (h_L x d), b_o`.
    /// Discriminator: `V₁ (d x g₁), c₁, …, V_M, c_M, w (g_M x 1), c (1), P (C x g_M)`.
    struct Layout: Equatable {
        let d, classes, latent: Int
        let generatorWidths: [Int]  // latent, hidden..., d
        let discriminatorWidths: [Int]  // d, hidden...
        let generatorWeights: [Int], generatorBiases: [Int], embedding: Int, generatorCount: Int
        let discriminatorWeights: [Int], discriminatorBiases: [Int], head: Int, headBias: Int, projection: Int, discriminatorCount: Int

        init(d: Int, classes: Int, latent: Int, generatorHidden: [Int], discriminatorHidden: [Int]) {
            self.d = d
            self.classes = classes
            self.latent = latent
            generatorWidths = [latent] + generatorHidden + [d]
            discriminatorWidths = [d] + discriminatorHidden
            var offset = 0
            var weights = [Int](), biases = [Int]()
            var embedding = 0
            for l in 0..<(generatorWidths.count - 1) {
                weights.append(offset)
                offset += generatorWidths[l] * generatorWidths[l + 1]
                if l == 0 {
                    embedding = offset
                    offset += classes * generatorWidths[1]
                }
                biases.append(offset)
                offset += generatorWidths[l + 1]
            }
            generatorWeights = weights
            generatorBiases = biases
            self.embedding = embedding
            generatorCount = offset
            offset = 0
            weights = []
            biases = []
            for m in 0..<(discriminatorWidths.count - 1) {
                weights.append(offset)
                offset += discriminatorWidths[m] * discriminatorWidths[m + 1]
                biases.append(offset)
                offset += discriminatorWidths[m + 1]
            }
            discriminatorWeights = weights
            discriminatorBiases = biases
            let last = discriminatorWidths.last!
            head = offset
            headBias = head + last
            projection = headBias + 1
            discriminatorCount = projection + classes * last
        }

        /// The discriminator matrices spectral normalisation applies to: (offset, rows, columns).
        var normalisedMatrices: [(offset: Int, rows: Int, columns: Int)] {
            var matrices = (0..<discriminatorWeights.count).map { (discriminatorWeights[$0], discriminatorWidths[$0], discriminatorWidths[$0 + 1]) }
            matrices.append((head, discriminatorWidths.last!, 1))
            matrices.append((projection, classes, discriminatorWidths.last!))
            return matrices
        }
    }

    func layout(d: Int, classes: Int) -> Layout {
        Layout(
            d: d, classes: classes, latent: configuration.latent, generatorHidden: configuration.generatorHidden,
            discriminatorHidden: configuration.discriminatorHidden)
    }

    /// The derived random streams of a fit.
    enum Stream: UInt64 { case initialise = 1, powerIteration, shuffle, noise }

    /// Trains the two networks on `samples` from a fresh initialisation.
    /// - Parameters:
    ///   - samples: the client's samples (features in [0, 1]).
    ///   - rng: the generator the fit's seed is taken from (one `next()`).
    /// - Throws: ``GeneratorError`` for an empty or malformed set, or a loss that stops being finite.
    public mutating func fit(_ samples: LabeledSamples, using rng: inout some RandomNumberGenerator) throws(GeneratorError) {
        try ClassSplit.validate(samples, generator: name)
        let seed = rng.next()
        let shape = layout(d: samples.featureCount, classes: samples.classCount)
        let trainer = GANTrainer(shape: shape, configuration: configuration, batch: min(configuration.batchSize, samples.count))
        try trainer.train(samples, seed: seed)
        generatorParameters = configuration.ema > 0 ? trainer.averaged.array : trainer.generator.array
        discriminatorParameters = trainer.discriminator.array
        discriminatorLoss = trainer.discriminatorLoss
        generatorLoss = trainer.generatorLoss
        classCounts = samples.classHistogram
        featureCount = samples.featureCount
    }

    public func sample(count: Int, label: Int?, temperature: Double, using rng: inout some RandomNumberGenerator) throws(GeneratorError) -> LabeledSamples {
        guard temperature.isFinite, temperature >= 0 else { throw GeneratorError("gan: temperature must be finite and ≥ 0, got \(temperature)") }
        let labels = try LabelPlan.labels(
            count: count, label: label, classCounts: classCounts, fitted: classCounts.map { $0 > 0 }, generator: name, using: &rng)
        let z = rng.standardNormals(count * configuration.latent).map { $0 * Float(temperature) }
        let features = generate(z, labels: labels)
        return LabeledSamples(features: features, labels: labels, featureCount: featureCount, classCount: classCounts.count)
    }

    /// Maps latent codes with their labels to images through the fitted generator.
    /// - Parameters:
    ///   - z: `rows x latent` codes, row-major.
    ///   - labels: one class per row.
    /// - Returns: `rows x d` images in (0, 1).
    /// - Precondition: the model is fitted and the shapes agree.
    public func generate(_ z: [Float], labels: [Int32]) -> [Float] {
        let shape = layout(d: featureCount, classes: classCounts.count)
        let n = labels.count
        precondition(z.count == n * configuration.latent && generatorParameters.count == shape.generatorCount, "gan.generate: unfitted or wrong shape")
        var out = [Float](repeating: 0, count: n * featureCount)
        let chunk = 256
        let network = GANNetwork(shape: shape, slope: Float(configuration.leakySlope), rows: min(chunk, max(n, 1)))
        let weights = ScratchBuffer(shape.generatorCount)
        weights.load(generatorParameters)
        z.withUnsafeBufferPointer { pz in
            labels.withUnsafeBufferPointer { py in
                out.withUnsafeMutableBufferPointer { po in
                    var start = 0
                    while start < n {
                        let rows = min(chunk, n - start)
                        network.generatorForward(
                            weights.pointer, z: pz.baseAddress! + start * shape.latent, labels: py.baseAddress! + start, rows: rows)
                        (po.baseAddress! + start * shape.d).update(from: network.generatorOutput.pointer, count: rows * shape.d)
                        start += rows
                    }
                }
            }
        }
        return out
    }
}

/// The activations of the two networks for batches of up to `rows` (generator) and `2 rows`
/// (discriminator), with their forward and backward passes.
final class GANNetwork {
    let shape: ConditionalGAN.Layout
    let slope: Float
    let rows: Int
    /// Generator layer outputs (post-activation), one buffer per hidden layer.
    let generatorActivations: [ScratchBuffer]
    /// The generator's images, `rows x d`.
    let generatorOutput: ScratchBuffer
    /// Discriminator layer outputs for `2 rows` inputs.
    let discriminatorActivations: [ScratchBuffer]
    /// Discriminator scores, `2 rows`.
    let scores: ScratchBuffer
    /// Two back-propagation buffers wide enough for any layer.
    let deltaA: ScratchBuffer, deltaB: ScratchBuffer

    init(shape: ConditionalGAN.Layout, slope: Float, rows: Int) {
        self.shape = shape
        self.slope = slope
        self.rows = rows
        generatorActivations = shape.generatorWidths.dropFirst().dropLast().map { ScratchBuffer(rows * $0) }
        generatorOutput = ScratchBuffer(rows * shape.d)
        discriminatorActivations = shape.discriminatorWidths.dropFirst().map { ScratchBuffer(2 * rows * $0) }
        scores = ScratchBuffer(2 * rows)
        let widest = max(shape.generatorWidths.max()!, shape.discriminatorWidths.max()!)
        deltaA = ScratchBuffer(2 * rows * widest)
        deltaB = ScratchBuffer(2 * rows * widest)
    }

    /// Fills ``generatorActivations`` and ``generatorOutput`` for `rows` latent codes.
    func generatorForward(_ theta: UnsafePointer<Float>, z: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int) {
        let s = shape
        let widths = s.generatorWidths
        let hidden = widths.count - 2
        for l in 0..<hidden {
            let input = l == 0 ? z : UnsafePointer(generatorActivations[l - 1].pointer)
            let out = generatorActivations[l].pointer
            NeuralKernels.dense(input, rows: rows, inputs: widths[l], outputs: widths[l + 1], weight: theta + s.generatorWeights[l], bias: theta + s.generatorBiases[l], out: out)
            if l == 0 { NeuralKernels.addEmbedding(theta + s.embedding, labels: labels, rows: rows, width: widths[1], to: out) }
            NeuralKernels.leakyReLU(out, count: rows * widths[l + 1], slope: slope)
        }
        let o = generatorOutput.pointer
        NeuralKernels.dense(
            generatorActivations[hidden - 1].pointer, rows: rows, inputs: widths[hidden], outputs: s.d,
            weight: theta + s.generatorWeights[hidden], bias: theta + s.generatorBiases[hidden], out: o)
        for i in 0..<(rows * s.d) { o[i] = NeuralKernels.sigmoid(o[i]) }
    }

    /// Back-propagates `dOutput` (`rows x d`, the loss gradient at the images; overwritten)
    /// through the generator, adding the parameter gradient to `gradient`.
    func generatorBackward(
        _ theta: UnsafePointer<Float>, z: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int,
        dOutput: UnsafeMutablePointer<Float>, gradient: UnsafeMutablePointer<Float>
    ) {
        let s = shape
        let widths = s.generatorWidths
        let hidden = widths.count - 2
        let o = generatorOutput.pointer
        for i in 0..<(rows * s.d) { dOutput[i] *= o[i] * (1 - o[i]) }
        var current = deltaA.pointer, spare = deltaB.pointer
        NeuralKernels.denseBackward(
            generatorActivations[hidden - 1].pointer, dOut: dOutput, rows: rows, inputs: widths[hidden], outputs: s.d,
            weight: theta + s.generatorWeights[hidden], dWeight: gradient + s.generatorWeights[hidden],
            dBias: gradient + s.generatorBiases[hidden], dInput: current)
        for l in stride(from: hidden - 1, through: 0, by: -1) {
            let width = widths[l + 1]
            NeuralKernels.leakyReLUBackward(output: generatorActivations[l].pointer, gradient: current, count: rows * width, slope: slope)
            let input = l == 0 ? z : UnsafePointer(generatorActivations[l - 1].pointer)
            NeuralKernels.denseBackward(
                input, dOut: current, rows: rows, inputs: widths[l], outputs: width, weight: theta + s.generatorWeights[l],
                dWeight: gradient + s.generatorWeights[l], dBias: gradient + s.generatorBiases[l], dInput: l == 0 ? nil : spare)
            if l == 0 { NeuralKernels.embeddingBackward(current, labels: labels, rows: rows, width: width, dEmbedding: gradient + s.embedding) }
            swap(&current, &spare)
        }
    }

    /// Fills ``discriminatorActivations`` and ``scores`` for `rows` images (`rows ≤ 2 · self.rows`).
    func discriminatorForward(_ theta: UnsafePointer<Float>, x: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int) {
        let s = shape
        let widths = s.discriminatorWidths
        for m in 0..<(widths.count - 1) {
            let input = m == 0 ? x : UnsafePointer(discriminatorActivations[m - 1].pointer)
            let out = discriminatorActivations[m].pointer
            NeuralKernels.dense(input, rows: rows, inputs: widths[m], outputs: widths[m + 1], weight: theta + s.discriminatorWeights[m], bias: theta + s.discriminatorBiases[m], out: out)
            NeuralKernels.leakyReLU(out, count: rows * widths[m + 1], slope: slope)
        }
        let last = widths.last!
        let h = discriminatorActivations.last!.pointer
        let w = theta + s.head
        for i in 0..<rows {
            let row = h + i * last
            let p = theta + s.projection + Int(labels[i]) * last
            var total: Float = theta[s.headBias]
            for j in 0..<last { total += row[j] * (w[j] + p[j]) }
            scores.pointer[i] = total
        }
    }

    /// Back-propagates the score gradients `dScores` (`rows`) through the discriminator: adds
    /// its parameter gradient to `gradient` (when given) and writes the image gradient to
    /// `dInput` (when given).
    func discriminatorBackward(
        _ theta: UnsafePointer<Float>, x: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, dScores: UnsafePointer<Float>,
        gradient: UnsafeMutablePointer<Float>?, dInput: UnsafeMutablePointer<Float>?
    ) {
        let s = shape
        let widths = s.discriminatorWidths
        let last = widths.last!
        let h = discriminatorActivations.last!.pointer
        var current = deltaA.pointer, spare = deltaB.pointer
        let w = theta + s.head
        for i in 0..<rows {
            let row = h + i * last
            let p = theta + s.projection + Int(labels[i]) * last
            let g = dScores[i]
            let delta = current + i * last
            for j in 0..<last { delta[j] = g * (w[j] + p[j]) }
            if let gradient {
                let dp = gradient + s.projection + Int(labels[i]) * last
                let dw = gradient + s.head
                for j in 0..<last {
                    dw[j] += g * row[j]
                    dp[j] += g * row[j]
                }
                gradient[s.headBias] += g
            }
        }
        for m in stride(from: widths.count - 2, through: 0, by: -1) {
            let width = widths[m + 1]
            NeuralKernels.leakyReLUBackward(output: discriminatorActivations[m].pointer, gradient: current, count: rows * width, slope: slope)
            let input = m == 0 ? x : UnsafePointer(discriminatorActivations[m - 1].pointer)
            NeuralKernels.denseBackward(
                input, dOut: current, rows: rows, inputs: widths[m], outputs: width, weight: theta + s.discriminatorWeights[m],
                dWeight: gradient.map { $0 + s.discriminatorWeights[m] }, dBias: gradient.map { $0 + s.discriminatorBiases[m] },
                dInput: m == 0 ? dInput : spare)
            swap(&current, &spare)
        }
    }
}

/// One fit of a ``ConditionalGAN``: parameters, Adam states, spectral-norm vectors and scratch.
final class GANTrainer {
    let shape: ConditionalGAN.Layout
    let configuration: ConditionalGAN.Configuration
    let batch: Int
    let network: GANNetwork
    let generator: ScratchBuffer, averaged: ScratchBuffer, generatorGradient: ScratchBuffer
    let discriminator: ScratchBuffer, normalised: ScratchBuffer, discriminatorGradient: ScratchBuffer
    var generatorAdam: AdamState, discriminatorAdam: AdamState
    /// Per normalised matrix: the persistent left vector `u`, the last right vector `v` and σ.
    var powerU: [[Float]], powerV: [[Float]], sigmas: [Float]
    let z: ScratchBuffer, images: ScratchBuffer, dImages: ScratchBuffer, dScores: ScratchBuffer
    var labels: [Int32], fakeLabels: [Int32]
    private(set) var discriminatorLoss: [Double] = [], generatorLoss: [Double] = []

    init(shape: ConditionalGAN.Layout, configuration: ConditionalGAN.Configuration, batch: Int) {
        self.shape = shape
        self.configuration = configuration
        self.batch = batch
        network = GANNetwork(shape: shape, slope: Float(configuration.leakySlope), rows: batch)
        generator = ScratchBuffer(shape.generatorCount)
        averaged = ScratchBuffer(shape.generatorCount)
        generatorGradient = ScratchBuffer(shape.generatorCount)
        discriminator = ScratchBuffer(shape.discriminatorCount)
        normalised = ScratchBuffer(shape.discriminatorCount)
        discriminatorGradient = ScratchBuffer(shape.discriminatorCount)
        let (b1, b2) = (Float(configuration.beta1), Float(configuration.beta2))
        generatorAdam = AdamState(count: shape.generatorCount, learningRate: Float(configuration.learningRate), beta1: b1, beta2: b2)
        discriminatorAdam = AdamState(count: shape.discriminatorCount, learningRate: Float(configuration.discriminatorLearningRate), beta1: b1, beta2: b2)
        powerU = []
        powerV = []
        sigmas = []
        z = ScratchBuffer(batch * shape.latent)
        images = ScratchBuffer(2 * batch * shape.d)
        dImages = ScratchBuffer(batch * shape.d)
        dScores = ScratchBuffer(2 * batch)
        labels = [Int32](repeating: 0, count: 2 * batch)
        fakeLabels = [Int32](repeating: 0, count: batch)
    }

    /// Initialises and runs the documented schedule.
    func train(_ samples: LabeledSamples, seed: UInt64) throws(GeneratorError) {
        initialise(samples, seed: seed)
        let n = samples.count
        var noise = SeededGenerator(seed: seed, stream: [ConditionalGAN.Stream.noise.rawValue])
        var epoch: UInt64 = 0
        var order = NeuralKernels.permutation(n, seed: seed, stream: [ConditionalGAN.Stream.shuffle.rawValue, epoch])
        var cursor = 0
        let c = configuration
        for step in 0..<c.steps {
            var lastDiscriminatorLoss = 0.0
            for _ in 0..<c.discriminatorSteps {
                // The real rows of this batch, then fakes with the same labels.
                if cursor + batch > n {
                    epoch += 1
                    order = NeuralKernels.permutation(n, seed: seed, stream: [ConditionalGAN.Stream.shuffle.rawValue, epoch])
                    cursor = 0
                }
                loadRealBatch(samples, rows: order[cursor..<(cursor + batch)])
                cursor += batch
                fillNoise(&noise)
                powerIterate()
                lastDiscriminatorLoss = discriminatorLossAndGradient()
                discriminatorAdam.update(discriminator.pointer, gradient: discriminatorGradient.pointer)
            }
            for r in 0..<batch { fakeLabels[r] = samples.labels[noise.uniform(below: n)] }
            fillNoise(&noise)
            let generatorLoss = generatorLossAndGradient()
            generatorAdam.update(generator.pointer, gradient: generatorGradient.pointer)
            guard lastDiscriminatorLoss.isFinite, generatorLoss.isFinite else {
                throw GeneratorError(
                    "gan: the losses became \(lastDiscriminatorLoss) (discriminator) and \(generatorLoss) (generator) at step \(step); lower lr or discriminator_lr")
            }
            discriminatorLoss.append(lastDiscriminatorLoss)
            self.generatorLoss.append(generatorLoss)
            updateAverage(step: step)
        }
    }

    func fillNoise(_ noise: inout SeededGenerator) {
        let draws = noise.standardNormals(batch * shape.latent)
        draws.withUnsafeBufferPointer { z.pointer.update(from: $0.baseAddress!, count: draws.count) }
    }

    func initialise(_ samples: LabeledSamples, seed: UInt64) {
        let s = shape
        var rng = SeededGenerator(seed: seed, stream: [ConditionalGAN.Stream.initialise.rawValue])
        let g = generator.pointer
        let widths = s.generatorWidths
        for l in 0..<(widths.count - 1) {
            let output = l == widths.count - 2
            NeuralKernels.initialise(g + s.generatorWeights[l], count: widths[l] * widths[l + 1], fanIn: widths[l] + (l == 0 ? 1 : 0), gain: output ? 1 : 2, using: &rng)
            if l == 0 { NeuralKernels.initialise(g + s.embedding, count: s.classes * widths[1], fanIn: widths[0] + 1, gain: 2, using: &rng) }
        }
        let logits = NeuralKernels.meanLogits(samples.features, count: samples.count, featureCount: s.d)
        for j in 0..<s.d { g[s.generatorBiases[widths.count - 2] + j] = logits[j] }
        (averaged.pointer).update(from: g, count: s.generatorCount)
        let dsc = discriminator.pointer
        let dWidths = s.discriminatorWidths
        for m in 0..<(dWidths.count - 1) {
            NeuralKernels.initialise(dsc + s.discriminatorWeights[m], count: dWidths[m] * dWidths[m + 1], fanIn: dWidths[m], gain: 2, using: &rng)
        }
        NeuralKernels.initialise(dsc + s.head, count: dWidths.last!, fanIn: dWidths.last!, gain: 1, using: &rng)
        NeuralKernels.initialise(dsc + s.projection, count: s.classes * dWidths.last!, fanIn: dWidths.last!, gain: 1, using: &rng)
        var power = SeededGenerator(seed: seed, stream: [ConditionalGAN.Stream.powerIteration.rawValue])
        for matrix in s.normalisedMatrices {
            powerU.append(Self.unit(power.standardNormals(matrix.rows)))
            powerV.append([Float](repeating: 0, count: matrix.columns))
            sigmas.append(1)
        }
        powerIterate()
    }

    private static func unit(_ values: [Float]) -> [Float] {
        let norm = values.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? values.map { $0 / norm } : values
    }

    /// One power iteration per normalised matrix (Miyato et al. 2018, Algorithm 1):
    /// `v ← Wᵀu / ‖Wᵀu‖`, `u ← W v / ‖W v‖`.
    func powerIterate() {
        guard configuration.spectralNorm else { return }
        for (index, matrix) in shape.normalisedMatrices.enumerated() {
            let w = discriminator.pointer + matrix.offset
            var v = [Float](repeating: 0, count: matrix.columns)
            var u = powerU[index]
            u.withUnsafeBufferPointer { pu in
                v.withUnsafeMutableBufferPointer { pv in
                    BLAS.sgemv(transpose: true, rows: matrix.rows, columns: matrix.columns, a: w, x: pu.baseAddress!, y: pv.baseAddress!)
                }
            }
            v = Self.unit(v)
            v.withUnsafeBufferPointer { pv in
                u.withUnsafeMutableBufferPointer { pu in
                    BLAS.sgemv(rows: matrix.rows, columns: matrix.columns, a: w, x: pv.baseAddress!, y: pu.baseAddress!)
                }
            }
            let norm = u.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { powerU[index] = u.map { $0 / norm } }
            powerV[index] = v
        }
    }

    /// Writes the discriminator's effective weights into ``normalised``: the raw parameters
    /// with every listed matrix divided by `σ = uᵀ W v` at the current power-iteration vectors
    /// (a plain copy without spectral normalisation).
    func normalise() {
        normalised.pointer.update(from: discriminator.pointer, count: shape.discriminatorCount)
        guard configuration.spectralNorm else { return }
        for (index, matrix) in shape.normalisedMatrices.enumerated() {
            let w = discriminator.pointer + matrix.offset
            let product = ScratchBuffer(matrix.rows)
            powerV[index].withUnsafeBufferPointer { pv in
                BLAS.sgemv(rows: matrix.rows, columns: matrix.columns, a: w, x: pv.baseAddress!, y: product.pointer)
            }
            let sigma = powerU[index].withUnsafeBufferPointer { pu in BLAS.sdot(count: matrix.rows, x: pu.baseAddress!, y: product.pointer) }
            sigmas[index] = max(sigma, 1e-12)
            BLAS.sscal(count: matrix.rows * matrix.columns, alpha: 1 / sigmas[index], x: normalised.pointer + matrix.offset)
        }
    }

    /// Turns the gradient with respect to the normalised matrices into the gradient with
    /// respect to the raw ones, `u` and `v` held fixed: `∂L/∂W = (G − ⟨G, W̄⟩ u vᵀ) / σ`
    /// (Miyato et al. 2018, eq. 12).
    private func normaliseGradient() {
        guard configuration.spectralNorm else { return }
        for (index, matrix) in shape.normalisedMatrices.enumerated() {
            let g = discriminatorGradient.pointer + matrix.offset
            let count = matrix.rows * matrix.columns
            let inner = BLAS.sdot(count: count, x: g, y: normalised.pointer + matrix.offset)
            powerU[index].withUnsafeBufferPointer { pu in
                powerV[index].withUnsafeBufferPointer { pv in
                    for r in 0..<matrix.rows {
                        BLAS.saxpy(count: matrix.columns, alpha: -inner * pu[r], x: pv.baseAddress!, y: g + r * matrix.columns)
                    }
                }
            }
            BLAS.sscal(count: count, alpha: 1 / sigmas[index], x: g)
        }
    }

    /// Copies the real rows `rows` of `samples` into the first half of ``images`` and their
    /// labels into both halves of ``labels`` (the fakes get the same labels).
    func loadRealBatch(_ samples: LabeledSamples, rows: ArraySlice<Int>) {
        let d = shape.d
        samples.features.withUnsafeBufferPointer { x in
            for (r, index) in rows.enumerated() {
                (images.pointer + r * d).update(from: x.baseAddress! + index * d, count: d)
                labels[r] = samples.labels[index]
                labels[batch + r] = samples.labels[index]
            }
        }
    }

    /// The discriminator loss on the real rows in ``images`` and fakes made from ``z``, at the
    /// current raw weights (normalised with the current `u`, `v`); leaves the gradient with
    /// respect to the raw discriminator weights in ``discriminatorGradient``.
    func discriminatorLossAndGradient() -> Double {
        let s = shape
        let b = batch
        normalise()
        labels.withUnsafeBufferPointer { py in
            network.generatorForward(generator.pointer, z: z.pointer, labels: py.baseAddress! + b, rows: b)
        }
        (images.pointer + b * s.d).update(from: network.generatorOutput.pointer, count: b * s.d)
        var loss = 0.0
        labels.withUnsafeBufferPointer { py in
            network.discriminatorForward(normalised.pointer, x: images.pointer, labels: py.baseAddress!, rows: 2 * b)
            let scores = network.scores.pointer
            let scale = 1 / Float(b)
            let smooth = Float(1 - configuration.labelSmoothing)
            for i in 0..<(2 * b) {
                let score = scores[i]
                let real = i < b
                switch configuration.loss {
                case .hinge:
                    if real {
                        loss += Double(max(1 - score, 0))
                        dScores.pointer[i] = score < 1 ? -scale : 0
                    } else {
                        loss += Double(max(1 + score, 0))
                        dScores.pointer[i] = score > -1 ? scale : 0
                    }
                case .nonSaturating:
                    if real {
                        loss += Double(smooth * NeuralKernels.softplus(-score) + (1 - smooth) * NeuralKernels.softplus(score))
                        dScores.pointer[i] = (NeuralKernels.sigmoid(score) - smooth) * scale
                    } else {
                        loss += Double(NeuralKernels.softplus(score))
                        dScores.pointer[i] = NeuralKernels.sigmoid(score) * scale
                    }
                }
            }
            discriminatorGradient.zero()
            network.discriminatorBackward(
                normalised.pointer, x: images.pointer, labels: py.baseAddress!, rows: 2 * b, dScores: dScores.pointer,
                gradient: discriminatorGradient.pointer, dInput: nil)
        }
        normaliseGradient()
        return loss / Double(b)
    }

    /// The generator loss of fakes made from ``z`` with ``fakeLabels`` against the current
    /// (normalised) discriminator; leaves its gradient in ``generatorGradient``.
    func generatorLossAndGradient() -> Double {
        let s = shape
        let b = batch
        normalise()
        var loss = 0.0
        fakeLabels.withUnsafeBufferPointer { py in
            let labels = py.baseAddress!
            network.generatorForward(generator.pointer, z: z.pointer, labels: labels, rows: b)
            images.pointer.update(from: network.generatorOutput.pointer, count: b * s.d)
            network.discriminatorForward(normalised.pointer, x: images.pointer, labels: labels, rows: b)
            let scale = 1 / Float(b)
            for i in 0..<b {
                let score = network.scores.pointer[i]
                switch configuration.loss {
                case .hinge:
                    loss -= Double(score)
                    dScores.pointer[i] = -scale
                case .nonSaturating:
                    loss += Double(NeuralKernels.softplus(-score))
                    dScores.pointer[i] = -NeuralKernels.sigmoid(-score) * scale
                }
            }
            network.discriminatorBackward(
                normalised.pointer, x: images.pointer, labels: labels, rows: b, dScores: dScores.pointer, gradient: nil, dInput: dImages.pointer)
            generatorGradient.zero()
            network.generatorBackward(generator.pointer, z: z.pointer, labels: labels, rows: b, dOutput: dImages.pointer, gradient: generatorGradient.pointer)
        }
        return loss / Double(b)
    }

    private func updateAverage(step: Int) {
        guard configuration.ema > 0 else { return }
        let decay = Float(min(configuration.ema, Double(1 + step) / Double(10 + step)))
        let a = averaged.pointer, g = generator.pointer
        for i in 0..<shape.generatorCount { a[i] = decay * a[i] + (1 - decay) * g[i] }
    }
}
