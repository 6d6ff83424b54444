import FedArenaCore

/// Builds ``Generator``s from their YAML specs (`attack.generator`), one entry per kind:
///
/// ```yaml
/// generator: { kind: gaussian-pca, components: 20, residual: false }
/// generator: { kind: gmm, components: 5, covariance: diagonal, iterations: 100, variance_floor: 0.001 }
/// generator: { kind: vae, latent: 8, hidden: 256, epochs: 30, batch_size: 32, lr: 0.005 }
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
    ])
}
