import FedArenaCore

/// Builds ``Generator``s from their YAML specs (`attack.generator`), one entry per kind:
///
/// ```yaml
/// generator: { kind: gaussian-pca, components: 20, residual: false }
/// generator: { kind: gmm, components: 5, covariance: diagonal, iterations: 100, variance_floor: 0.001 }
/// generator: { kind: vae, latent: 8, hidden: 256, epochs: 30, batch_size: 32, lr: 0.005 }
/// generator: { kind: gan, steps: 2000, loss: non-saturating, label_smoothing: 0.1, generator_hidden: [256, 512], discriminator_hidden: [256, 128] }
/// generator: { kind: diffusion, components: 64, steps: 3000, schedule: cosine, hidden: 256, layers: 3, sampling_steps: 50 }
/// ```
///
/// Options are read through ``ConfigReader``; ``ConfigReader/finish()`` rejects unknown keys
/// with their key path and a did-you-mean. A generator's own ``GeneratorError`` from `init`
/// becomes ``ConfigError`` `.invalidValue` at the spec's key path.
public struct GeneratorRegistry: Sendable {
    /// The table of generators (the generic ``Registry`` of Core).
    public typealias Generators = Registry<any Generator, Void, Void>
    /// How to build one generator.
    public typealias Entry = Generators.Entry

    /// The generators.
    public private(set) var generators: Generators

    /// The generators by YAML name.
    public var entries: [String: Entry] { generators.entries }

    /// Creates a registry holding `entries`.
    public init(entries: [Entry]) {
        generators = Generators("generator", entries: entries)
    }

    /// Adds (or replaces) an entry.
    public mutating func register(_ entry: Entry) { generators.register(entry) }

    /// The known names, sorted.
    public var kinds: [String] { generators.kinds }

    /// Builds the generator `spec` names.
    /// - Parameter spec: the `attack.generator` mapping.
    /// - Returns: an unfitted generator.
    /// - Throws: ``ConfigError`` for an unknown kind (with a did-you-mean and the known kinds),
    ///   an unknown key, a wrong type or an impossible value, at its key path.
    public func make(_ spec: ComponentSpec) throws(ConfigError) -> any Generator {
        try generators.make(spec)
    }

    /// Runs a generator's throwing `init`, turning its ``GeneratorError`` into a ``ConfigError``
    /// `.invalidValue` at the reader's path.
    public static func building<T>(_ reader: ConfigReader, _ body: () throws(GeneratorError) -> T) throws(ConfigError) -> T {
        try reader.building(nil, body)
    }

    /// Reads the `gan` options over ``ConditionalGAN/Configuration``'s defaults and checks
    /// them, so an impossible value is reported at its own key path.
    static func ganConfiguration(_ r: ConfigReader) throws(ConfigError) -> ConditionalGAN.Configuration {
        var c = ConditionalGAN.Configuration()
        c.latent = try r.int("latent", default: c.latent, atLeast: 1)
        c.generatorHidden = try widths(r, "generator_hidden", default: c.generatorHidden)
        c.discriminatorHidden = try widths(r, "discriminator_hidden", default: c.discriminatorHidden)
        c.steps = try r.int("steps", default: c.steps, atLeast: 1)
        c.discriminatorSteps = try r.int("discriminator_steps", default: c.discriminatorSteps, atLeast: 1)
        c.batchSize = try r.int("batch_size", default: c.batchSize, atLeast: 2)
        c.learningRate = try r.positiveDouble("lr", default: c.learningRate)
        c.discriminatorLearningRate = try r.positiveDouble("discriminator_lr", default: c.discriminatorLearningRate)
        c.beta1 = try r.double("beta1", default: c.beta1, range: 0...0.999_999)
        c.beta2 = try r.double("beta2", default: c.beta2, range: 0...0.999_999)
        let loss = try r.string("loss", default: c.loss.rawValue, allowed: ConditionalGAN.Loss.allCases.map(\.rawValue))
        c.loss = ConditionalGAN.Loss(rawValue: loss)!
        c.spectralNorm = try r.bool("spectral_norm", default: c.spectralNorm)
        c.labelSmoothing = try r.double("label_smoothing", default: c.loss == .nonSaturating ? 0.1 : 0, range: 0...0.49)
        c.ema = try r.double("ema", default: c.ema, range: 0...0.999_999)
        c.leakySlope = try r.double("leaky_slope", default: c.leakySlope, range: 0...0.999_999)
        if let problem = c.problem { throw r.error(problem.key, problem.reason) }
        return c
    }

    /// Reads the `diffusion` options over ``ConditionalDiffusion/Configuration``'s defaults
    /// and checks them, so an impossible value is reported at its own key path.
    static func diffusionConfiguration(_ r: ConfigReader) throws(ConfigError) -> ConditionalDiffusion.Configuration {
        var c = ConditionalDiffusion.Configuration()
        c.components = try r.int("components", default: c.components, atLeast: 0)
        let prediction = try r.string("prediction", default: c.prediction.rawValue, allowed: ConditionalDiffusion.Prediction.allCases.map(\.rawValue))
        c.prediction = ConditionalDiffusion.Prediction(rawValue: prediction)!
        c.hidden = try r.int("hidden", default: c.hidden, atLeast: 1)
        c.layers = try r.int("layers", default: c.layers, atLeast: 1)
        c.timeFeatures = try r.int("time_features", default: c.timeFeatures, atLeast: 2)
        c.timesteps = try r.int("timesteps", default: c.timesteps, atLeast: 2)
        let schedule = try r.string("schedule", default: c.schedule.rawValue, allowed: ConditionalDiffusion.Schedule.allCases.map(\.rawValue))
        c.schedule = ConditionalDiffusion.Schedule(rawValue: schedule)!
        c.steps = try r.int("steps", default: c.steps, atLeast: 1)
        c.batchSize = try r.int("batch_size", default: c.batchSize, atLeast: 1)
        c.learningRate = try r.positiveDouble("lr", default: c.learningRate)
        c.samplingSteps = try r.int("sampling_steps", default: c.samplingSteps, atLeast: 1)
        c.eta = try r.double("eta", default: c.eta, range: 0...1)
        c.labelDropout = try r.double("label_dropout", default: c.labelDropout, range: 0...0.99)
        c.guidance = try r.double("guidance", default: c.guidance, range: 0...100)
        if let problem = c.problem { throw r.error(problem.key, problem.reason) }
        return c
    }

    private static func widths(_ r: ConfigReader, _ key: String, default fallback: [Int]) throws(ConfigError) -> [Int] {
        let values = try r.intArray(key, default: fallback, elementsAtLeast: 1)
        guard !values.isEmpty else { throw r.error(key, "needs at least one hidden width") }
        return values
    }

    private static func smallClasses(_ r: ConfigReader) throws(ConfigError) -> SmallClassPolicy {
        let raw = try r.string("small_classes", default: "fail", allowed: SmallClassPolicy.allCases.map(\.rawValue))
        return SmallClassPolicy(rawValue: raw)!
    }
}

extension GeneratorRegistry {
    /// Every built-in generator.
    public static let standard = GeneratorRegistry(entries: [
        Entry(kind: "gaussian-pca", summary: "class-conditional Gaussian in a k-component PCA subspace (Tipping and Bishop 1999)") { r throws(ConfigError) in
            let k = try r.int("components", default: 20, atLeast: 1)
            let residual = try r.bool("residual", default: false)
            let policy = try smallClasses(r)
            return try building(r) { () throws(GeneratorError) in try GaussianPCA(components: k, residual: residual, smallClasses: policy) }
        },
        Entry(kind: "gmm", summary: "class-conditional diagonal Gaussian mixture fitted by EM (Dempster et al. 1977)") { r throws(ConfigError) in
            let k = try r.int("components", default: 5, atLeast: 1)
            _ = try r.string("covariance", default: "diagonal", allowed: ["diagonal"])
            let iterations = try r.int("iterations", default: 100, atLeast: 1)
            let tolerance = try r.double("tolerance", default: 1e-6, range: 0...1)
            let floor = try r.positiveDouble("variance_floor", default: 1e-3)
            let policy = try smallClasses(r)
            return try building(r) { () throws(GeneratorError) in
                try GaussianMixture(components: k, iterations: iterations, tolerance: tolerance, varianceFloor: floor, smallClasses: policy)
            }
        },
        Entry(kind: "vae", summary: "class-conditional VAE, MLP encoder/decoder, Adam (Kingma and Welling 2014; Sohn et al. 2015)") { r throws(ConfigError) in
            let latent = try r.int("latent", default: 8, atLeast: 1)
            let hidden = try r.int("hidden", default: 256, atLeast: 1)
            let epochs = try r.int("epochs", default: 30, atLeast: 1)
            let batch = try r.int("batch_size", default: 32, atLeast: 1)
            let lr = try r.positiveDouble("lr", default: 5e-3)
            return try building(r) { () throws(GeneratorError) in
                try ConditionalVAE(latent: latent, hidden: hidden, epochs: epochs, batchSize: batch, learningRate: lr)
            }
        },
        Entry(kind: "gan", summary: "class-conditional MLP GAN, hinge or non-saturating loss, spectral norm, EMA (Goodfellow et al. 2014; Miyato et al. 2018)") { r throws(ConfigError) in
            let configuration = try ganConfiguration(r)
            return try building(r) { () throws(GeneratorError) in try ConditionalGAN(configuration) }
        },
        Entry(kind: "diffusion", summary: "class-conditional DDPM, cosine or linear schedule, MLP denoiser, DDIM sampling (Ho et al. 2020; Song et al. 2021)") { r throws(ConfigError) in
            let configuration = try diffusionConfiguration(r)
            return try building(r) { () throws(GeneratorError) in try ConditionalDiffusion(configuration) }
        },
    ])
}
