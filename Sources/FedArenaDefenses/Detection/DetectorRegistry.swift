import FedArenaCore

/// Builds detectors from scenario specs (`defense.detectors: [{kind: ...}, ...]`), by YAML `kind`.
///
/// ```swift
/// let registry = DetectorRegistry.standard(model: scenario.model)           // root-audit needs the model
/// let detector = try registry.make(ComponentSpec(kind: "sketch-mmd", keyPath: "defense.detectors[0]"))
/// let policy = try DetectionPolicy.read(try ConfigReader(value, path: "defense.detection_policy"))
/// let pipeline = try registry.makePipeline(specs, policy: policy)
/// ```
///
/// Options are read through ``ConfigReader``; ``ConfigReader/finish()`` rejects unknown keys,
/// and a ``DetectionError`` from a detector's `init` becomes ``ConfigError`` `.invalidValue`
/// at the spec's key path.
public struct DetectorRegistry: Sendable {
    /// What a detector may need from the scenario.
    public struct Environment: Sendable, Equatable {
        /// The scenario's model (for `root-audit`).
        public var model: ModelSpec
        /// Features per sample.
        public var inputCount: Int
        /// The number of classes.
        public var classCount: Int

        /// Creates an environment (Fashion-MNIST softmax by default).
        public init(model: ModelSpec = .softmax, inputCount: Int = 784, classCount: Int = 10) {
            self.model = model
            self.inputCount = inputCount
            self.classCount = classCount
        }
    }

    /// The table of detectors (the generic ``Registry`` of Core).
    public typealias Detectors = Registry<any Detector, Environment, Void>
    /// How to build one detector.
    public typealias Entry = Detectors.Entry

    /// The detectors.
    public private(set) var detectors: Detectors
    /// The scenario facts handed to every entry.
    public var environment: Environment

    /// The detectors by YAML name.
    public var entries: [String: Entry] { detectors.entries }

    /// Creates a registry.
    public init(entries: [Entry], environment: Environment = Environment()) {
        detectors = Detectors("detector", entries: entries)
        self.environment = environment
    }

    /// Adds (or replaces) a detector.
    public mutating func register(_ entry: Entry) { detectors.register(entry) }

    /// The known names, sorted.
    public var kinds: [String] { detectors.kinds }

    /// Builds the detector `spec` names.
    /// - Throws: ``ConfigError`` for an unknown kind (with a did-you-mean), an unknown key, a
    ///   wrong type or an impossible value, at its key path.
    public func make(_ spec: ComponentSpec) throws(ConfigError) -> any Detector {
        try detectors.make(spec, environment)
    }

    /// Builds every detector of a list; a kind listed twice is rejected (their memories would clash).
    public func makeAll(_ specs: [ComponentSpec]) throws(ConfigError) -> [any Detector] {
        var seen = Set<String>()
        var detectors = [any Detector]()
        for spec in specs {
            guard seen.insert(spec.kind).inserted else {
                throw ConfigError(.invalidValue, keyPath: spec.keyPath, "detector \"\(spec.kind)\" is listed twice")
            }
            detectors.append(try make(spec))
        }
        return detectors
    }

    /// Builds the detectors and the pipeline that fuses them.
    /// - Throws: ``ConfigError`` for a bad spec, or for a `detector_thresholds` entry that names
    ///   no detector of `specs`.
    public func makePipeline(_ specs: [ComponentSpec], policy: DetectionPolicy) throws(ConfigError) -> DetectionPipeline {
        let detectors = try makeAll(specs)
        let names = Set(detectors.map(\.name))
        for name in policy.detectorThresholds.keys.sorted() where !names.contains(name) {
            throw ConfigError(
                .invalidValue, keyPath: "defense.detection_policy.detector_thresholds.\(name)",
                "no detector named \(name) in defense.detection (have: \(names.sorted().joined(separator: ", ")))")
        }
        return DetectionPipeline(detectors: detectors, policy: policy)
    }

    /// Runs a detector's throwing `init`, turning its ``DetectionError`` into a ``ConfigError``
    /// `.invalidValue` at the reader's path.
    public static func building<T>(_ reader: ConfigReader, _ body: () throws(DetectionError) -> T) throws(ConfigError) -> T {
        try reader.building(nil, body)
    }

    /// Reads the optional `noise_epsilon` / `noise_delta` pair (both or neither).
    static func readNoise(_ r: ConfigReader) throws(ConfigError) -> SketchNoise? {
        let hasEpsilon = r.contains("noise_epsilon")
        let hasDelta = r.contains("noise_delta")
        guard hasEpsilon || hasDelta else { _ = r.raw("noise_epsilon"); _ = r.raw("noise_delta"); return nil }
        guard hasEpsilon, hasDelta else {
            throw r.error(hasEpsilon ? "noise_delta" : "noise_epsilon", "noise_epsilon and noise_delta go together", code: .missingKey)
        }
        let epsilon = try r.double("noise_epsilon")
        let delta = try r.double("noise_delta")
        do throws(DetectionError) { return try SketchNoise(epsilon: epsilon, delta: delta) } catch {
            throw r.error("noise_epsilon", error.message)
        }
    }
}

extension DetectorRegistry {
    /// Every built-in detector, for the default environment (softmax on 784 features, 10 classes).
    public static let standard = DetectorRegistry(
        entries: [
            Entry(kind: "root-audit", summary: "apply each update, test on the root set: loss, worst class, root-update cosine") { r, env throws(ConfigError) in
                let center = try r.double("z_center", default: 3)
                let width = try r.double("z_width", default: 1)
                let chunk = try r.int("chunk_size", default: 1000, atLeast: 1)
                return try building(r) { () throws(DetectionError) in
                    try RootAudit(spec: env.model, inputs: env.inputCount, classes: env.classCount, zCenter: center, zWidth: width, chunkSize: chunk)
                }
            },
            Entry(kind: "sketch-mmd", summary: "per-class MMD of data sketches vs the root set, cross-client z, spread and tails (Gretton et al. 2012)") { r, _ throws(ConfigError) in
                let dimension = try r.int("dimension", default: DataSketchBuilder.defaultDimension, atLeast: 1)
                let bandwidth = try r.positiveDouble("bandwidth", default: DataSketchBuilder.defaultBandwidth)
                let draws = try r.int("null_draws", default: 200, atLeast: 10)
                let minCount = try r.int("min_class_count", default: 5, atLeast: 2)
                let tail = try r.double("tail_fraction", default: 0.2, range: 0.01...0.99)
                let missing = try r.double("missing_score", default: 0.5, range: 0...1)
                let noise = try readNoise(r)
                let center = try r.double("z_center", default: 3)
                let width = try r.positiveDouble("z_width", default: 1)
                return try building(r) { () throws(DetectionError) in
                    try SketchMMD(
                        dimension: dimension, bandwidth: bandwidth, nullDraws: draws, minClassCount: minCount, tailFraction: tail,
                        missingScore: missing, noise: noise, zCenter: center, zWidth: width)
                }
            },
            Entry(kind: "update-similarity", summary: "FoolsGold-style history cosine, median agreement, self-history (Fung et al. 2020)") { r, _ throws(ConfigError) in
                let sybil = try r.double("sybil_cosine", default: 0.99, range: 0.01...1)
                let center = try r.double("z_center", default: 3)
                let width = try r.positiveDouble("z_width", default: 1)
                return try building(r) { () throws(DetectionError) in try UpdateSimilarity(sybilCosine: sybil, zCenter: center, zWidth: width) }
            },
            Entry(kind: "audit-c2st", summary: "opt-in: clients reveal k samples, a real-vs-synthetic classifier judges them (Lopez-Paz and Oquab 2017)") { r, _ throws(ConfigError) in
                let k = try r.int("samples_per_client", default: 16, atLeast: 1)
                let dimension = try r.int("dimension", default: 256, atLeast: 1)
                let bandwidth = try r.positiveDouble("bandwidth", default: DataSketchBuilder.defaultBandwidth)
                let l2 = try r.double("l2", default: 1e-3, range: 0...1e6)
                let iterations = try r.int("iterations", default: 300, atLeast: 1)
                let minCount = try r.int("min_class_count", default: 5, atLeast: 1)
                let statistic = try r.string("statistic", default: "mean", allowed: AuditC2ST.Statistic.allCases.map(\.rawValue))
                let folds = try r.int("folds", default: 5, atLeast: 2)
                let center = try r.double("z_center", default: 3)
                let width = try r.positiveDouble("z_width", default: 1)
                return try building(r) { () throws(DetectionError) in
                    try AuditC2ST(
                        samplesPerClient: k, dimension: dimension, bandwidth: bandwidth, l2: l2, iterations: iterations, minClassCount: minCount,
                        statistic: AuditC2ST.Statistic(rawValue: statistic)!, folds: folds, zCenter: center, zWidth: width)
                }
            },
            Entry(kind: "pixel-grid", summary: "revealed or opened samples off the data's 1/levels value grid (8-bit images); quantising attackers evade it") { r, _ throws(ConfigError) in
                let levels = try r.int("levels", default: 255, atLeast: 1)
                let k = try r.int("samples_per_client", default: 32, atLeast: 1)
                return try building(r) { () throws(DetectionError) in try PixelGrid(levels: levels, samplesPerClient: k) }
            },
            Entry(kind: "training-audit", summary: "opt-in: Merkle commitment to every local step, largest-norm and random steps opened and recomputed (Jia et al. 2021)") { r, _ throws(ConfigError) in
                let random = try r.int("random_steps", default: 4, atLeast: 0)
                let largest = try r.int("largest_steps", default: 2, atLeast: 0)
                return try building(r) { () throws(DetectionError) in try TrainingAuditDetector(randomSteps: random, largestSteps: largest) }
            },
            Entry(kind: "label-consistency", summary: "revealed or opened samples' labels vs a root-set classifier, per-class cross-validated null (Tolpegin et al. 2020)") { r, _ throws(ConfigError) in
                let k = try r.int("samples_per_client", default: 32, atLeast: 1)
                let epochs = try r.int("epochs", default: 20, atLeast: 1)
                let lr = try r.positiveDouble("lr", default: 0.1)
                let folds = try r.int("folds", default: 5, atLeast: 2)
                let center = try r.double("z_center", default: 3)
                let width = try r.positiveDouble("z_width", default: 1)
                return try building(r) { () throws(DetectionError) in
                    try LabelConsistency(samplesPerClient: k, epochs: epochs, learningRate: lr, folds: folds, zCenter: center, zWidth: width)
                }
            },
        ])

    /// The built-in detectors for a scenario's model and data shape.
    public static func standard(model: ModelSpec, inputs: Int = 784, classes: Int = 10) -> DetectorRegistry {
        var registry = standard
        registry.environment = Environment(model: model, inputCount: inputs, classCount: classes)
        return registry
    }
}
