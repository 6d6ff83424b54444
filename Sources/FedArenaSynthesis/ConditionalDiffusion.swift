import FedArenaCore
import FedArenaNumerics
import Foundation

/// A class-conditional denoising diffusion model: DDPM training (Ho, Jain and Abbeel 2020,
/// "Denoising diffusion probabilistic models", NeurIPS) with a linear or cosine noise schedule
/// (Nichol and Dhariwal 2021, "Improved denoising diffusion probabilistic models", ICML), an
/// MLP denoiser with time and class embeddings, and DDIM sampling with a configurable number
/// of steps (Song, Meng and Ermon 2021, "Denoising diffusion implicit models", ICLR).
///
/// **Coordinates.** The images `x ∈ [0, 1]^d` become `x₀ = 2x − 1`. With `components = K > 0`
/// the model runs on `z₀ = (x₀ − μ) Vᵀ ∈ R^K`, the coordinates in the top-K principal
/// directions `V` of the training set (found by subspace iteration with Rayleigh-Ritz, so the
/// coordinates are uncorrelated with variances `s_k²`), and a sample is `μ + z₀ V`: diffusion
/// in a linear latent space, as latent diffusion (Rombach et al. 2022) does with a learned
/// auto-encoder. With `components = 0` it runs on the centred pixels `z₀ = x₀ − μ` (`s_k²` the
/// per-pixel variances, floored at 1e-6). Let `D` be the model dimension (K or d).
///
/// ```
/// forward      z_t = √ᾱ_t z₀ + √(1 − ᾱ_t) ε,   ε ~ N(0, I_D),  t ∈ 1…T
/// network      F(u, t, y):  τ = [sin(t ω_j), cos(t ω_j)]_j, ω_j = 10000^(−j/(F/2)),  F = `timeFeatures`
///              h₁ = SiLU(u W₁ + τ U₁ + E₁[y] + b₁)
///              hₗ = hₗ₋₁ + SiLU(hₗ₋₁ Wₗ + τ Uₗ + Eₗ[y] + bₗ)      (residual; every width `hidden`)
///              F = h_L W_o + b_o
/// ```
///
/// **Parameterisation** (``Prediction``). `epsilon` (Ho et al.): `u = z_t`, the network
/// predicts ε, loss `mean (F − ε)²` (their "simple" loss, eq. 14). `edm` (the default): the
/// preconditioning of Karras, Aittala, Aila and Laine 2022 ("Elucidating the design space of
/// diffusion-based generative models", NeurIPS, Table 1), per coordinate with `σ_data = s_k`
/// and written for the VP process: with `σ² = (1 − ᾱ_t)/ᾱ_t` and `z̃ = z_t / √ᾱ_t = z₀ + σ ε`,
/// `u_k = z̃_k / √(σ² + s_k²)`, `ẑ₀ = c_skip z̃ + c_out F`, `c_skip,k = s_k² / (σ² + s_k²)`,
/// `c_out,k = σ s_k / √(σ² + s_k²)`, loss `mean (F − (z₀ − c_skip z̃) / c_out)²` (a unit-variance
/// target), `ε̂ = (z̃ − ẑ₀) / σ`. The skip term is the exact denoiser of a Gaussian with the
/// data's per-coordinate variances, so the network only learns what is not Gaussian. (An MLP
/// narrower than the data cannot pass white noise through; in pixel space an ε-predictor
/// with 512 hidden units is stuck near loss `1 − 512/784` and samples stay noise.)
///
/// Schedules: `linear`, β_t from 1e-4 to 0.02 over T (Ho et al.); `cosine`,
/// `ᾱ_t = f(t)/f(0)`, `f(t) = cos²(((t/T) + 0.008)/(1.008) · π/2)`, each β_t clipped at 0.999
/// (Nichol and Dhariwal, eq. 17). With `labelDropout` p > 0 a label is replaced by the null
/// class `C` with probability p during training, and sampling uses classifier-free guidance
/// `ε̃ = (1 + w) ε̂(z, y) − w ε̂(z, ∅)` with `w = guidance` (Ho and Salimans 2022,
/// "Classifier-free diffusion guidance").
///
/// DDIM: `S = samplingSteps` timesteps `τ_i = ⌈i T / S⌉`, from `τ_S = T` down; at each,
/// `ẑ₀ = (z_t − √(1 − ᾱ_t) ε̃) / √ᾱ_t` (in pixel coordinates clipped to the box that maps to
/// [0, 1]), then `z_prev = √ᾱ_prev ẑ₀ + √(1 − ᾱ_prev − σ²) ε̃′ + σ ξ` with `ε̃′` re-derived from
/// the clipped `ẑ₀`, `σ = η √((1 − ᾱ_prev)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_prev)` (η = `eta`,
/// 0 = deterministic), and `ᾱ_prev = 1` after the last step, whose `ẑ₀` is decoded and clipped
/// to [0, 1]. Temperature `T` scales the starting noise and ξ (`z_T ~ N(0, T² I)`).
///
/// **Determinism.** ``fit(_:using:)`` takes one 64-bit seed from the generator it is given and
/// derives `SeededGenerator(seed:, stream:)` streams: `[1]` initialisation and the subspace
/// iteration's start, `[2, epoch]` the epoch's shuffle, `[3]` timesteps, noise and label
/// dropout. Sampling draws labels, then `z_T`, then the η noise step by step, from the
/// generator it is given.
public struct ConditionalDiffusion: Generator, Equatable {
    /// The noise schedule.
    public enum Schedule: String, Sendable, CaseIterable {
        /// β linear in t (Ho et al. 2020).
        case linear
        /// ᾱ a squared cosine in t (Nichol and Dhariwal 2021).
        case cosine
    }

    /// What the network predicts.
    public enum Prediction: String, Sendable, CaseIterable {
        /// The noise ε (Ho et al. 2020).
        case epsilon
        /// The preconditioned denoiser of Karras et al. 2022.
        case edm
    }

    /// The hyper-parameters; the names in parentheses are the YAML keys.
    public struct Configuration: Sendable, Equatable {
        /// Principal components the model runs on (`components`; 0 = pixel space), capped at
        /// the training set's size − 1 and at d. On 600 Fashion-MNIST images 64 gave cleaner
        /// samples (C2ST 0.71, coverage 0.90) than 128 (0.89, 0.75) or 256 (0.89, 0.57), at
        /// some recall (0.30 against 0.50 and 0.60).
        public var components = 64
        /// What the network predicts (`prediction`).
        public var prediction = Prediction.edm
        /// The width of every hidden layer (`hidden`).
        public var hidden = 256
        /// Hidden layers (`layers`).
        public var layers = 3
        /// Sinusoidal time features (`time_features`, even).
        public var timeFeatures = 64
        /// Diffusion steps T (`timesteps`).
        public var timesteps = 1_000
        /// The noise schedule (`schedule`).
        public var schedule = Schedule.cosine
        /// Training iterations (`steps`).
        public var steps = 3_000
        /// Samples per iteration (`batch_size`), capped at the training set's size.
        public var batchSize = 128
        /// Adam's step (`lr`).
        public var learningRate = 1e-3
        /// DDIM steps at sampling time (`sampling_steps`, ≤ T).
        public var samplingSteps = 50
        /// DDIM's η (`eta`): 0 deterministic, 1 DDPM-like.
        public var eta = 0.0
        /// The probability of training on the null label (`label_dropout`).
        public var labelDropout = 0.1
        /// The classifier-free guidance weight w (`guidance`; needs `label_dropout > 0` when > 0).
        public var guidance = 1.0

        /// The defaults (see the README for measured fit times).
        public init() {}

        /// The first option out of range, as its YAML key and the reason (`nil` when all are valid).
        public var problem: (key: String, reason: String)? {
            func check(_ ok: Bool, _ key: String, _ rule: String, _ value: Any) -> (key: String, reason: String)? {
                ok ? nil : (key, "must be \(rule), got \(value)")
            }
            let checks: [() -> (key: String, reason: String)?] = [
                { check(components >= 0, "components", "≥ 0", components) },
                { check(hidden >= 1, "hidden", "≥ 1", hidden) },
                { check(layers >= 1, "layers", "≥ 1", layers) },
                { check(timeFeatures >= 2 && timeFeatures % 2 == 0, "time_features", "even and ≥ 2", timeFeatures) },
                { check(timesteps >= 2, "timesteps", "≥ 2", timesteps) },
                { check(steps >= 1, "steps", "≥ 1", steps) },
                { check(batchSize >= 1, "batch_size", "≥ 1", batchSize) },
                { check(learningRate > 0 && learningRate.isFinite, "lr", "finite and > 0", learningRate) },
                { check(samplingSteps >= 1 && samplingSteps <= timesteps, "sampling_steps", "in 1…timesteps (\(timesteps))", samplingSteps) },
                { check(eta >= 0 && eta <= 1, "eta", "in [0, 1]", eta) },
                { check(labelDropout >= 0 && labelDropout < 1, "label_dropout", "in [0, 1)", labelDropout) },
                { check(guidance >= 0 && guidance.isFinite, "guidance", "finite and ≥ 0", guidance) },
                { check(guidance == 0 || labelDropout > 0, "guidance", "0 when label_dropout is 0 (no unconditional model is trained)", guidance) },
            ]
            for check in checks { if let problem = check() { return problem } }
            return nil
        }
    }

    /// The coordinates the model runs on.
    public struct Coordinates: Sendable, Equatable {
        /// μ, the mean of `2x − 1` (d values).
        public var mean: [Float]
        /// V, the principal directions as rows (`D x d`); empty in pixel space.
        public var directions: [Float]
        /// s_k, the standard deviation of each model coordinate (D values).
        public var scales: [Float]

        /// The model dimension D.
        public var dimension: Int { scales.count }
    }

    public var name: String { "diffusion" }
    /// The hyper-parameters.
    public let configuration: Configuration
    /// The trained parameters in ``Layout`` order; empty before fitting.
    public private(set) var parameters: [Float] = []
    /// The model's coordinates; empty before fitting.
    public private(set) var coordinates = Coordinates(mean: [], directions: [], scales: [])
    /// The mean training loss of every block of 100 iterations (the last block may be shorter).
    public private(set) var lossHistory: [Double] = []
    /// Samples per class at fit time.
    public private(set) var classCounts: [Int] = []
    /// Features per sample, 0 before fitting.
    public private(set) var featureCount = 0

    /// Creates an untrained model.
    /// - Parameter configuration: the hyper-parameters (checked with ``Configuration/problem``).
    /// - Throws: ``GeneratorError`` naming the first option out of range.
    public init(_ configuration: Configuration = Configuration()) throws(GeneratorError) {
        if let problem = configuration.problem { throw GeneratorError("diffusion: \(problem.key) \(problem.reason)") }
        self.configuration = configuration
    }

    /// Offsets of the parameter blocks for model dimension `d`. Per layer `l`: `Wₗ (in x H)`,
    /// `Uₗ (F x H)`, `Eₗ ((C + 1) x H)` (row C: the null class), `bₗ (H)`; then `W_o (H x d)`, `b_o (d)`.
    struct Layout: Equatable {
        let d, classes, hidden, layers, timeFeatures: Int
        let weights: [Int], timeWeights: [Int], embeddings: [Int], biases: [Int]
        let output: Int, outputBias: Int, count: Int

        init(d: Int, classes: Int, configuration c: Configuration) {
            self.d = d
            self.classes = classes
            hidden = c.hidden
            layers = c.layers
            timeFeatures = c.timeFeatures
            var offset = 0
            var w = [Int](), u = [Int](), e = [Int](), b = [Int]()
            for l in 0..<c.layers {
                w.append(offset)
                offset += (l == 0 ? d : c.hidden) * c.hidden
                u.append(offset)
                offset += c.timeFeatures * c.hidden
                e.append(offset)
                offset += (classes + 1) * c.hidden
                b.append(offset)
                offset += c.hidden
            }
            weights = w
            timeWeights = u
            embeddings = e
            biases = b
            output = offset
            outputBias = offset + c.hidden * d
            count = outputBias + d
        }

        func inputs(_ layer: Int) -> Int { layer == 0 ? d : hidden }
    }

    /// ᾱ_t of a schedule.
    /// - Parameters:
    ///   - schedule: linear or cosine.
    ///   - timesteps: T ≥ 1.
    /// - Returns: ᾱ_t for t = 1…T (index t − 1).
    public static func cumulativeAlphas(schedule: Schedule, timesteps: Int) -> [Double] {
        var betas = [Double]()
        switch schedule {
        case .linear:
            for t in 0..<timesteps { betas.append(1e-4 + (0.02 - 1e-4) * Double(t) / Double(max(timesteps - 1, 1))) }
        case .cosine:
            let s = 0.008
            func f(_ t: Int) -> Double {
                let angle = (Double(t) / Double(timesteps) + s) / (1 + s) * Double.pi / 2
                return cos(angle) * cos(angle)
            }
            for t in 1...timesteps { betas.append(min(1 - f(t) / f(t - 1), 0.999)) }
        }
        var product = 1.0
        return betas.map { beta in
            product *= 1 - beta
            return product
        }
    }

    /// The DDIM timesteps `τ_1 < … < τ_S` (1-based), `τ_i = ⌈i T / S⌉`.
    /// - Parameters:
    ///   - timesteps: T.
    ///   - steps: S, in 1…T.
    /// - Returns: the S timesteps, ascending, ending at T.
    public static func samplingTimesteps(timesteps: Int, steps: Int) -> [Int] {
        (1...steps).map { i in (i * timesteps + steps - 1) / steps }
    }

    /// The per-coordinate scalars of the parameterisation at `ᾱ` for coordinate scales `s`:
    /// the network input is `input ⊙ z_t` and, for ``Prediction/edm``, the clean estimate
    /// `ẑ₀ = skip ⊙ z_t + out ⊙ F`; for ``Prediction/epsilon``, `input = 1` and the output is ε̂.
    static func coefficients(
        _ prediction: Prediction, alphaBar a: Double, scales: [Float]
    ) -> (input: [Float], skip: [Float], out: [Float]) {
        switch prediction {
        case .epsilon:
            let ones = [Float](repeating: 1, count: scales.count)
            return (ones, [Float](repeating: 0, count: scales.count), ones)
        case .edm:
            let variance = (1 - a) / a  // σ²
            let rootA = a.squareRoot()
            var input = [Float](), skip = [Float](), out = [Float]()
            input.reserveCapacity(scales.count)
            skip.reserveCapacity(scales.count)
            out.reserveCapacity(scales.count)
            for scale in scales {
                let sd = Double(scale)
                let total = variance + sd * sd
                input.append(Float(1 / (total.squareRoot() * rootA)))
                skip.append(Float(sd * sd / (total * rootA)))
                out.append(Float(variance.squareRoot() * sd / total.squareRoot()))
            }
            return (input, skip, out)
        }
    }

    /// The derived random streams of a fit.
    enum Stream: UInt64 { case initialise = 1, shuffle, noise }

    /// The model coordinates of `samples` (`n x D`) and the coordinate system: `components`
    /// principal directions (capped at `n − 1` and d), or centred pixels for 0.
    static func project(_ samples: LabeledSamples, components: Int, using rng: inout SeededGenerator) -> (z: [Float], coordinates: Coordinates) {
        let n = samples.count
        let d = samples.featureCount
        var centered = samples.features.map { 2 * $0 - 1 }
        var sums = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { sums[j] += Double(centered[i * d + j]) } }
        let mean = sums.map { Float($0 / Double(n)) }
        for i in 0..<n { for j in 0..<d { centered[i * d + j] -= mean[j] } }
        let denominator = Float(max(n - 1, 1))
        let k = min(components, d, max(n - 1, 1))
        guard components > 0 else {
            var variances = [Double](repeating: 0, count: d)
            for i in 0..<n { for j in 0..<d { variances[j] += Double(centered[i * d + j] * centered[i * d + j]) } }
            let scales = variances.map { Float(max($0 / Double(denominator), 1e-6).squareRoot()) }
            return (centered, Coordinates(mean: mean, directions: [], scales: scales))
        }
        var covariance = BLAS.matmulTransposingFirst(centered, centered, m: d, n: d, k: n)
        VectorMath.scale(&covariance, by: 1 / denominator)
        let width = min(d, k + 8)
        let (values, vectors) = Spectral.topEigen(covariance, d: d, count: k, start: rng.standardNormals(width * d), maxIterations: 30, tolerance: 1e-4)
        let z = BLAS.matmulTransposed(centered, vectors, m: n, n: k, k: d)
        let floor = max(values.first ?? 0, 1e-12) * 1e-6
        return (z, Coordinates(mean: mean, directions: vectors, scales: values.map { Float(max($0, floor).squareRoot()) }))
    }

    /// Trains the denoiser on `samples` from a fresh initialisation.
    /// - Parameters:
    ///   - samples: the client's samples (features in [0, 1]).
    ///   - rng: the generator the fit's seed is taken from (one `next()`).
    /// - Throws: ``GeneratorError`` for an empty or malformed set, or a loss that stops being finite.
    public mutating func fit(_ samples: LabeledSamples, using rng: inout some RandomNumberGenerator) throws(GeneratorError) {
        try ClassSplit.validate(samples, generator: name)
        let seed = rng.next()
        var initRng = SeededGenerator(seed: seed, stream: [Stream.initialise.rawValue])
        let (z, system) = Self.project(samples, components: configuration.components, using: &initRng)
        let d = system.dimension
        let shape = Layout(d: d, classes: samples.classCount, configuration: configuration)
        let batch = min(configuration.batchSize, samples.count)
        let network = DenoiserNetwork(shape: shape, rows: batch)
        let theta = ScratchBuffer(shape.count)
        let gradient = ScratchBuffer(shape.count)
        for l in 0..<shape.layers {
            NeuralKernels.initialise(theta.pointer + shape.weights[l], count: shape.inputs(l) * shape.hidden, fanIn: shape.inputs(l), gain: 2, using: &initRng)
            NeuralKernels.initialise(theta.pointer + shape.timeWeights[l], count: shape.timeFeatures * shape.hidden, fanIn: shape.timeFeatures, gain: 1, using: &initRng)
            NeuralKernels.initialise(theta.pointer + shape.embeddings[l], count: (shape.classes + 1) * shape.hidden, fanIn: shape.hidden, gain: 1, using: &initRng)
        }
        NeuralKernels.initialise(theta.pointer + shape.output, count: shape.hidden * shape.d, fanIn: shape.hidden, gain: 1, using: &initRng)
        var adam = AdamState(count: shape.count, learningRate: Float(configuration.learningRate))
        let c = configuration
        let alphaBar = Self.cumulativeAlphas(schedule: c.schedule, timesteps: c.timesteps)
        let features = Self.timeFeatureTable(timesteps: c.timesteps, features: shape.timeFeatures)
        var noiseRng = SeededGenerator(seed: seed, stream: [Stream.noise.rawValue])
        let n = samples.count
        var epoch: UInt64 = 0
        var order = NeuralKernels.permutation(n, seed: seed, stream: [Stream.shuffle.rawValue, epoch])
        var cursor = 0
        let input = ScratchBuffer(batch * d), target = ScratchBuffer(batch * d), tau = ScratchBuffer(batch * shape.timeFeatures)
        var labels = [Int32](repeating: 0, count: batch)
        var history = [Double]()
        var block = 0.0, blockCount = 0
        for step in 0..<c.steps {
            if cursor + batch > n {
                epoch += 1
                order = NeuralKernels.permutation(n, seed: seed, stream: [Stream.shuffle.rawValue, epoch])
                cursor = 0
            }
            let noise = noiseRng.standardNormals(batch * d)
            for r in 0..<batch {
                let index = order[cursor + r]
                let t = noiseRng.uniform(below: c.timesteps)  // 0-based: the timestep is t + 1
                let dropped = c.labelDropout > 0 && noiseRng.unitDouble() < c.labelDropout
                labels[r] = dropped ? Int32(shape.classes) : samples.labels[index]
                let a = Float(alphaBar[t].squareRoot()), sigma = Float((1 - alphaBar[t]).squareRoot())
                let k = Self.coefficients(c.prediction, alphaBar: alphaBar[t], scales: system.scales)
                for j in 0..<d {
                    let clean = z[index * d + j]
                    let e = noise[r * d + j]
                    let noisy = a * clean + sigma * e
                    input.pointer[r * d + j] = k.input[j] * noisy
                    target.pointer[r * d + j] = c.prediction == .epsilon ? e : (clean - k.skip[j] * noisy) / k.out[j]
                }
                for f in 0..<shape.timeFeatures { tau.pointer[r * shape.timeFeatures + f] = features[t * shape.timeFeatures + f] }
            }
            cursor += batch
            gradient.zero()
            let loss = labels.withUnsafeBufferPointer { py in
                network.lossAndGradient(
                    theta.pointer, x: input.pointer, time: tau.pointer, labels: py.baseAddress!, target: target.pointer, rows: batch,
                    gradient: gradient.pointer)
            }
            guard loss.isFinite else { throw GeneratorError("diffusion: the loss became \(loss) at step \(step); lower lr") }
            adam.update(theta.pointer, gradient: gradient.pointer)
            block += loss
            blockCount += 1
            if blockCount == 100 || step == c.steps - 1 {
                history.append(block / Double(blockCount))
                block = 0
                blockCount = 0
            }
        }
        parameters = theta.array
        coordinates = system
        lossHistory = history
        classCounts = samples.classHistogram
        featureCount = samples.featureCount
    }

    /// The sinusoidal features of t = 1…T, `T x F` (row t − 1), as in the Transformer's
    /// position encoding (Vaswani et al. 2017) that Ho et al. use for t.
    static func timeFeatureTable(timesteps: Int, features: Int) -> [Float] {
        let half = features / 2
        var table = [Float](repeating: 0, count: timesteps * features)
        for t in 1...timesteps {
            for k in 0..<half {
                let frequency = pow(10_000, -Double(k) / Double(half))
                table[(t - 1) * features + k] = Float(sin(Double(t) * frequency))
                table[(t - 1) * features + half + k] = Float(cos(Double(t) * frequency))
            }
        }
        return table
    }

    public func sample(count: Int, label: Int?, temperature: Double, using rng: inout some RandomNumberGenerator) throws(GeneratorError) -> LabeledSamples {
        guard temperature.isFinite, temperature >= 0 else { throw GeneratorError("diffusion: temperature must be finite and ≥ 0, got \(temperature)") }
        let labels = try LabelPlan.labels(
            count: count, label: label, classCounts: classCounts, fitted: classCounts.map { $0 > 0 }, generator: name, using: &rng)
        let start = rng.standardNormals(count * coordinates.dimension).map { $0 * Float(temperature) }
        var features = decode(denoise(start, labels: labels, temperature: temperature, using: &rng))
        LabelPlan.clip(&features)
        return LabeledSamples(features: features, labels: labels, featureCount: featureCount, classCount: classCounts.count)
    }

    /// A copy of `fitted` with other coordinates (for tests of the coordinate maps).
    init(fitted: ConditionalDiffusion, coordinates: Coordinates) {
        self = fitted
        self.coordinates = coordinates
    }

    /// Maps model coordinates to images, `(μ + z V + 1) / 2` (not clipped).
    /// - Parameter z: `rows x D` model coordinates.
    /// - Returns: `rows x d` images.
    /// - Precondition: the model is fitted.
    public func decode(_ z: [Float]) -> [Float] {
        let d = featureCount
        let dimension = coordinates.dimension
        let rows = dimension == 0 ? 0 : z.count / dimension
        var x = coordinates.directions.isEmpty ? z : BLAS.matmul(z, coordinates.directions, m: rows, k: dimension, n: d)
        for i in 0..<rows { for j in 0..<d { x[i * d + j] = (x[i * d + j] + coordinates.mean[j] + 1) / 2 } }
        return x
    }

    /// Runs the DDIM chain from `z_T` with `labels`.
    /// - Parameters:
    ///   - start: `rows x D` starting noise.
    ///   - labels: one class per row.
    ///   - temperature: scales the η noise.
    ///   - rng: the source of the η noise (unused for η = 0).
    /// - Returns: the `rows x D` model coordinates of the samples (``decode(_:)`` maps them to images).
    /// - Precondition: the model is fitted and the shapes agree.
    public func denoise(_ start: [Float], labels: [Int32], temperature: Double = 1, using rng: inout some RandomNumberGenerator) -> [Float] {
        let d = coordinates.dimension
        let shape = Layout(d: d, classes: classCounts.count, configuration: configuration)
        let n = labels.count
        precondition(start.count == n * d && parameters.count == shape.count, "diffusion.denoise: unfitted or wrong shape")
        guard n > 0 else { return [] }
        let c = configuration
        let alphaBar = Self.cumulativeAlphas(schedule: c.schedule, timesteps: c.timesteps)
        let table = Self.timeFeatureTable(timesteps: c.timesteps, features: shape.timeFeatures)
        let schedule = Self.samplingTimesteps(timesteps: c.timesteps, steps: c.samplingSteps)
        // Pixel coordinates: ẑ₀ stays in the box that maps to [0, 1].
        let bounds: (lower: [Float], upper: [Float])? =
            coordinates.directions.isEmpty ? (coordinates.mean.map { -1 - $0 }, coordinates.mean.map { 1 - $0 }) : nil
        let guided = c.guidance > 0
        let chunk = 256
        let rows = min(chunk, n)
        let network = DenoiserNetwork(shape: shape, rows: guided ? 2 * rows : rows)
        let theta = ScratchBuffer(shape.count)
        theta.load(parameters)
        let input = ScratchBuffer((guided ? 2 : 1) * rows * d)
        let tau = ScratchBuffer((guided ? 2 : 1) * rows * shape.timeFeatures)
        let w = Float(c.guidance)
        var result = [Float]()
        result.reserveCapacity(n * d)
        var begin = 0
        while begin < n {
            let m = min(chunk, n - begin)
            let width = guided ? 2 * m : m
            var batchLabels = Array(labels[begin..<(begin + m)])
            if guided { batchLabels += [Int32](repeating: Int32(shape.classes), count: m) }
            result += Self.ddim(
                Array(start[(begin * d)..<((begin + m) * d)]), alphaBar: alphaBar, timesteps: schedule, eta: c.eta,
                temperature: temperature, bounds: bounds, using: &rng
            ) { x, t in
                let a = alphaBar[t - 1]
                let k = Self.coefficients(c.prediction, alphaBar: a, scales: coordinates.scales)
                for r in 0..<width {
                    let source = (r % m) * d
                    for j in 0..<d { input.pointer[r * d + j] = k.input[j] * x[source + j] }
                    for f in 0..<shape.timeFeatures { tau.pointer[r * shape.timeFeatures + f] = table[(t - 1) * shape.timeFeatures + f] }
                }
                var predicted = batchLabels.withUnsafeBufferPointer { py in
                    network.forward(theta.pointer, x: input.pointer, time: tau.pointer, labels: py.baseAddress!, rows: width)
                }
                if c.prediction == .edm {
                    // ε̂ = (z_t − √ᾱ ẑ₀) / √(1 − ᾱ) with ẑ₀ = skip ⊙ z_t + out ⊙ F.
                    let rootA = Float(a.squareRoot()), inverse = Float(1 / (1 - a).squareRoot())
                    for r in 0..<width {
                        let source = (r % m) * d
                        for j in 0..<d {
                            let xt = x[source + j]
                            let clean = k.skip[j] * xt + k.out[j] * predicted[r * d + j]
                            predicted[r * d + j] = (xt - rootA * clean) * inverse
                        }
                    }
                }
                guard guided else { return predicted }
                for i in 0..<(m * d) { predicted[i] = (1 + w) * predicted[i] - w * predicted[m * d + i] }
                predicted.removeLast(m * d)
                return predicted
            }
            begin += m
        }
        return result
    }

    /// The DDIM chain (Song et al. 2021, eq. 12) over `timesteps` (ascending, 1-based) from
    /// `start` (rows of `D = bounds.lower.count` when bounds are given), with `predict(z_t, t)`
    /// the noise estimate. Returns the final `ẑ₀`, clipped to `bounds` per coordinate when given.
    static func ddim(
        _ start: [Float], alphaBar: [Double], timesteps: [Int], eta: Double, temperature: Double,
        bounds: (lower: [Float], upper: [Float])? = nil, using rng: inout some RandomNumberGenerator,
        predict: (_ x: [Float], _ t: Int) -> [Float]
    ) -> [Float] {
        var x = start
        let count = x.count
        let width = bounds?.lower.count ?? 1
        for i in stride(from: timesteps.count - 1, through: 0, by: -1) {
            let t = timesteps[i]
            let current = alphaBar[t - 1]
            let previous = i > 0 ? alphaBar[timesteps[i - 1] - 1] : 1
            let e = predict(x, t)
            let sqrtCurrent = Float(current.squareRoot()), sqrtOneMinus = Float((1 - current).squareRoot())
            let sigma = eta * ((1 - previous) / (1 - current)).squareRoot() * (1 - current / previous).squareRoot()
            let direction = Float(max(1 - previous - sigma * sigma, 0).squareRoot())
            let z = sigma > 0 ? rng.standardNormals(count) : []
            let sqrtPrevious = Float(previous.squareRoot())
            for j in 0..<count {
                let xt = x[j]
                var clean = (xt - sqrtOneMinus * e[j]) / sqrtCurrent
                if let bounds { clean = min(max(clean, bounds.lower[j % width]), bounds.upper[j % width]) }
                guard i > 0 else {
                    x[j] = clean
                    continue
                }
                // ε consistent with the clipped ẑ₀, so the chain stays on its trajectory.
                let consistent = (xt - sqrtCurrent * clean) / sqrtOneMinus
                var next = sqrtPrevious * clean + direction * consistent
                if sigma > 0 { next += Float(sigma * temperature) * z[j] }
                x[j] = next
            }
        }
        return x
    }
}

/// The noise predictor's activations for batches of up to `rows`, with its forward and
/// backward passes.
final class DenoiserNetwork {
    let shape: ConditionalDiffusion.Layout
    let rows: Int
    /// Per layer: pre-activations and outputs (the residual sums), `rows x H`.
    let pre: [ScratchBuffer], post: [ScratchBuffer]
    let output: ScratchBuffer
    let delta: ScratchBuffer, deltaSpare: ScratchBuffer, dOutput: ScratchBuffer

    init(shape: ConditionalDiffusion.Layout, rows: Int) {
        self.shape = shape
        self.rows = rows
        pre = (0..<shape.layers).map { _ in ScratchBuffer(rows * shape.hidden) }
        post = (0..<shape.layers).map { _ in ScratchBuffer(rows * shape.hidden) }
        output = ScratchBuffer(rows * shape.d)
        delta = ScratchBuffer(rows * shape.hidden)
        deltaSpare = ScratchBuffer(rows * shape.hidden)
        dOutput = ScratchBuffer(rows * shape.d)
    }

    /// ε̂ for `rows` noisy inputs; returns ``output`` as an array (`rows x d`).
    func forward(_ theta: UnsafePointer<Float>, x: UnsafePointer<Float>, time: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int) -> [Float] {
        run(theta, x: x, time: time, labels: labels, rows: rows)
        return Array(UnsafeBufferPointer(start: output.pointer, count: rows * shape.d))
    }

    private func run(_ theta: UnsafePointer<Float>, x: UnsafePointer<Float>, time: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int) {
        let s = shape
        let h = s.hidden
        for l in 0..<s.layers {
            let input = l == 0 ? x : UnsafePointer(post[l - 1].pointer)
            let a = pre[l].pointer
            NeuralKernels.dense(input, rows: rows, inputs: s.inputs(l), outputs: h, weight: theta + s.weights[l], bias: theta + s.biases[l], out: a)
            NeuralKernels.dense(time, rows: rows, inputs: s.timeFeatures, outputs: h, weight: theta + s.timeWeights[l], bias: nil, out: a, accumulate: true)
            NeuralKernels.addEmbedding(theta + s.embeddings[l], labels: labels, rows: rows, width: h, to: a)
            let out = post[l].pointer
            NeuralKernels.silu(a, into: out, count: rows * h)
            if l > 0 {
                let previous = post[l - 1].pointer
                for i in 0..<(rows * h) { out[i] += previous[i] }
            }
        }
        NeuralKernels.dense(post[s.layers - 1].pointer, rows: rows, inputs: h, outputs: s.d, weight: theta + s.output, bias: theta + s.outputBias, out: output.pointer)
    }

    /// The mean squared error between ε̂ and `target` over the batch and pixels; adds its
    /// gradient to `gradient`.
    func lossAndGradient(
        _ theta: UnsafePointer<Float>, x: UnsafePointer<Float>, time: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
        target: UnsafePointer<Float>, rows: Int, gradient: UnsafeMutablePointer<Float>
    ) -> Double {
        run(theta, x: x, time: time, labels: labels, rows: rows)
        let s = shape
        let h = s.hidden
        let count = rows * s.d
        let scale = 2 / Float(count)
        var loss = 0.0
        let o = output.pointer, dO = dOutput.pointer
        for i in 0..<count {
            let e = o[i] - target[i]
            loss += Double(e * e)
            dO[i] = scale * e
        }
        var current = delta.pointer, spare = deltaSpare.pointer
        NeuralKernels.denseBackward(
            post[s.layers - 1].pointer, dOut: dO, rows: rows, inputs: h, outputs: s.d, weight: theta + s.output,
            dWeight: gradient + s.output, dBias: gradient + s.outputBias, dInput: current)
        for l in stride(from: s.layers - 1, through: 0, by: -1) {
            // `current` is ∂L/∂hₗ; the residual path passes it on unchanged to hₗ₋₁.
            if l > 0 { spare.update(from: current, count: rows * h) }
            NeuralKernels.siluBackward(preActivation: pre[l].pointer, gradient: current, count: rows * h)
            let input = l == 0 ? x : UnsafePointer(post[l - 1].pointer)
            NeuralKernels.denseBackward(
                time, dOut: current, rows: rows, inputs: s.timeFeatures, outputs: h, weight: theta + s.timeWeights[l],
                dWeight: gradient + s.timeWeights[l], dBias: nil, dInput: nil)
            NeuralKernels.embeddingBackward(current, labels: labels, rows: rows, width: h, dEmbedding: gradient + s.embeddings[l])
            NeuralKernels.denseBackward(
                input, dOut: current, rows: rows, inputs: s.inputs(l), outputs: h, weight: theta + s.weights[l],
                dWeight: gradient + s.weights[l], dBias: gradient + s.biases[l], dInput: l == 0 ? nil : spare, accumulateInput: true)
            swap(&current, &spare)
        }
        return loss / Double(count)
    }
}
