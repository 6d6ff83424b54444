import FedArenaCore

/// Builds aggregation rules from scenario specs (`defense.aggregator`), by YAML `kind`.
///
/// ```swift
/// let spec = ComponentSpec(kind: "krum", options: ["f": .int(10), "pre": ...], keyPath: "defense.aggregator")
/// let rule = try AggregatorRegistry.standard.make(spec)                        // any Aggregator
/// try AggregatorRegistry.standard.validate(spec, inputCount: 50)               // scenario check
/// ```
///
/// Options are read through ``ConfigReader`` and ``ConfigReader/finish()`` rejects unknown
/// keys with their key path. Impossible parameters (``AggregationError`` `.invalidConfiguration`
/// from a rule's `init`) and rounds too small for a rule (`.tooFewUpdates` from
/// ``Aggregator/validate(inputCount:)``) become ``ConfigError`` `.invalidValue` at the key
/// path of the offending option, e.g. `defense.aggregator.f: krum needs n > 2f + 2 ...`.
///
/// The optional `pre` list chains ``PreAggregator`` stages in front of the rule:
/// `{kind: krum, f: 10, pre: [{kind: nnm, f: 10}, {kind: clip, tau: 5}]}`.
public struct AggregatorRegistry: Sendable {
    /// How to build one rule.
    public struct Entry: Sendable {
        /// The YAML name.
        public var kind: String
        /// One line for `fedarena` help and the README.
        public var summary: String
        /// The option whose value the rule's `n`-bound involves (`f` for Krum), or `nil`;
        /// `validate(inputCount:)` failures are reported at this key.
        public var boundKey: String?
        /// Reads the options (never `pre`, never `finish()`) and builds the rule.
        public var make: @Sendable (ConfigReader) throws(ConfigError) -> any Aggregator

        /// Creates an entry.
        public init(
            kind: String, summary: String, boundKey: String? = nil,
            make: @escaping @Sendable (ConfigReader) throws(ConfigError) -> any Aggregator
        ) {
            self.kind = kind
            self.summary = summary
            self.boundKey = boundKey
            self.make = make
        }
    }

    /// How to build one pre-aggregation stage.
    public struct PreEntry: Sendable {
        /// The YAML name.
        public var kind: String
        /// One line for help.
        public var summary: String
        /// The option the stage's `n`-bound involves, or `nil`.
        public var boundKey: String?
        /// Reads the options (not `kind`, never `finish()`) and builds the stage.
        public var make: @Sendable (ConfigReader) throws(ConfigError) -> any PreAggregator

        /// Creates an entry.
        public init(
            kind: String, summary: String, boundKey: String? = nil,
            make: @escaping @Sendable (ConfigReader) throws(ConfigError) -> any PreAggregator
        ) {
            self.kind = kind
            self.summary = summary
            self.boundKey = boundKey
            self.make = make
        }
    }

    /// The rules by YAML name.
    public private(set) var entries: [String: Entry]
    /// The pre-aggregation stages by YAML name.
    public private(set) var preEntries: [String: PreEntry]

    /// Creates a registry holding `entries` and `preEntries`.
    public init(entries: [Entry], preEntries: [PreEntry] = []) {
        self.entries = Dictionary(entries.map { ($0.kind, $0) }, uniquingKeysWith: { _, last in last })
        self.preEntries = Dictionary(preEntries.map { ($0.kind, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// Adds (or replaces) a rule.
    public mutating func register(_ entry: Entry) { entries[entry.kind] = entry }

    /// Adds (or replaces) a pre-aggregation stage.
    public mutating func register(_ entry: PreEntry) { preEntries[entry.kind] = entry }

    /// The known rule names, sorted.
    public var kinds: [String] { entries.keys.sorted() }

    /// The known pre-aggregation names, sorted.
    public var preKinds: [String] { preEntries.keys.sorted() }

    // MARK: Building

    /// Builds the rule `spec` names, with its `pre` chain.
    /// - Parameter spec: the `defense.aggregator` mapping.
    /// - Returns: the rule, a ``PreAggregatedRule`` when `pre` is non-empty.
    /// - Throws: ``ConfigError`` for an unknown kind (with a did-you-mean and the known kinds),
    ///   an unknown key, a wrong type, or an impossible value, at its key path.
    public func make(_ spec: ComponentSpec) throws(ConfigError) -> any Aggregator {
        try build(spec).aggregator
    }

    /// Builds the rule and checks that a round of `inputCount` updates satisfies the bounds of
    /// every stage and of the rule (`validate(inputCount:)`), for scenario validation.
    /// - Parameters:
    ///   - spec: the `defense.aggregator` mapping.
    ///   - inputCount: the updates per round (`clients.per_round`, less expected dropouts).
    /// - Returns: the rule, as ``make(_:)`` would.
    /// - Throws: ``ConfigError`` as ``make(_:)``, and `.invalidValue` at the bound's key path
    ///   (`defense.aggregator.f: krum needs n > 2f + 2, got n = 10, f = 5`).
    @discardableResult
    public func validate(_ spec: ComponentSpec, inputCount: Int) throws(ConfigError) -> any Aggregator {
        let built = try build(spec)
        var count = inputCount
        for stage in built.stages {
            do throws(AggregationError) {
                try stage.stage.validate(inputCount: count)
            } catch {
                throw Self.configError(error, keyPath: stage.boundPath)
            }
            count = stage.stage.outputCount(inputCount: count)
        }
        do throws(AggregationError) {
            try built.rule.validate(inputCount: count)
        } catch {
            throw Self.configError(error, keyPath: built.ruleBoundPath)
        }
        return built.aggregator
    }

    /// Checks an already built rule against `inputCount` updates, reporting at `keyPath`.
    /// - Throws: ``ConfigError`` `.invalidValue` carrying the rule's message.
    public static func check(_ aggregator: any Aggregator, inputCount: Int, keyPath: String) throws(ConfigError) {
        do throws(AggregationError) {
            try aggregator.validate(inputCount: inputCount)
        } catch {
            throw configError(error, keyPath: keyPath)
        }
    }

    /// An ``AggregationError`` as a ``ConfigError`` `.invalidValue` at `keyPath`.
    public static func configError(_ error: AggregationError, keyPath: String) -> ConfigError {
        ConfigError(.invalidValue, keyPath: keyPath, error.message)
    }

    /// Runs a rule's throwing `init`, turning its ``AggregationError`` into a ``ConfigError`` at
    /// `key` of `reader` (or at the reader's own path when `key` is `nil`).
    public static func building<T>(
        _ reader: ConfigReader, key: String?, _ body: () throws(AggregationError) -> T
    ) throws(ConfigError) -> T {
        do throws(AggregationError) {
            return try body()
        } catch {
            throw configError(error, keyPath: key.map { reader.keyPath($0) } ?? reader.path)
        }
    }

    private struct BuiltStage {
        var stage: any PreAggregator
        var boundPath: String
    }

    private struct Built {
        var stages: [BuiltStage]
        var rule: any Aggregator
        var ruleBoundPath: String
        var aggregator: any Aggregator {
            stages.isEmpty ? rule : PreAggregatedRule(stages: stages.map(\.stage), rule: rule)
        }
    }

    private func build(_ spec: ComponentSpec) throws(ConfigError) -> Built {
        guard let entry = entries[spec.kind] else {
            throw Self.unknownKind(spec.kind, known: kinds, what: "aggregator", keyPath: join(spec.keyPath, "kind"))
        }
        let reader = try spec.reader()
        let rule = try entry.make(reader)
        var stages = [BuiltStage]()
        for (path, value) in try reader.list("pre") {
            let stageReader = try ConfigReader(value, path: path)
            let kind = try stageReader.string("kind")
            guard let preEntry = preEntries[kind] else {
                throw Self.unknownKind(kind, known: preKinds, what: "pre-aggregator", keyPath: join(path, "kind"))
            }
            let stage = try preEntry.make(stageReader)
            try stageReader.finish()
            stages.append(BuiltStage(stage: stage, boundPath: preEntry.boundKey.map { join(path, $0) } ?? path))
        }
        try reader.finish()
        return Built(stages: stages, rule: rule, ruleBoundPath: entry.boundKey.map { join(spec.keyPath, $0) } ?? spec.keyPath)
    }

    private static func unknownKind(_ kind: String, known: [String], what: String, keyPath: String) -> ConfigError {
        var message = "unknown \(what) \"\(kind)\""
        if let guess = ConfigReader.closest(to: kind, in: known) { message += " (did you mean \"\(guess)\"?)" }
        message += "; known: \(known.joined(separator: ", "))"
        return ConfigError(.invalidValue, keyPath: keyPath, message)
    }

    private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}

extension AggregatorRegistry {
    /// Every built-in rule and pre-aggregation stage (one line each).
    public static let standard = AggregatorRegistry(
        entries: [
            Entry(kind: "fedavg", summary: "mean weighted by sample count (McMahan et al. 2017)") { r throws(ConfigError) in
                FedAvg(weighted: try r.bool("weighted", default: true))
            },
            Entry(kind: "median", summary: "coordinate-wise median (Yin et al. 2018)") { _ throws(ConfigError) in
                CoordinateMedian()
            },
            Entry(kind: "trimmed-mean", summary: "coordinate-wise beta-trimmed mean (Yin et al. 2018)", boundKey: "beta") { r throws(ConfigError) in
                let beta = try r.double("beta", default: 0.1)
                return try building(r, key: "beta") { () throws(AggregationError) in try TrimmedMean(beta: beta) }
            },
            Entry(kind: "krum", summary: "Krum (Blanchard et al. 2017)", boundKey: "f") { r throws(ConfigError) in
                let f = try r.int("f")
                return try building(r, key: "f") { () throws(AggregationError) in try Krum(f: f) }
            },
            Entry(kind: "multi-krum", summary: "Multi-Krum, mean of the m best Krum scores (Blanchard et al. 2017)", boundKey: "f") { r throws(ConfigError) in
                let f = try r.int("f")
                let m = try r.optionalInt("m", atLeast: 1)
                return try building(r, key: "f") { () throws(AggregationError) in try MultiKrum(f: f, m: m) }
            },
            Entry(kind: "bulyan", summary: "Bulyan: repeated Krum, then trimmed around the median (El Mhamdi et al. 2018)", boundKey: "f") { r throws(ConfigError) in
                let f = try r.int("f")
                return try building(r, key: "f") { () throws(AggregationError) in try Bulyan(f: f) }
            },
            Entry(kind: "geomed", summary: "geometric median by smoothed Weiszfeld, RFA (Pillutla et al. 2022)") { r throws(ConfigError) in
                let nu = try r.double("nu", default: 1e-6)
                let iterations = try r.int("iterations", default: 100)
                let tolerance = try r.double("tolerance", default: 1e-5)
                let weighted = try r.bool("weighted", default: true)
                let start = try r.string("start", default: "mean", allowed: ["mean", "zero"])
                return try building(r, key: nil) { () throws(AggregationError) in
                    try GeometricMedian(nu: nu, iterations: iterations, tolerance: tolerance, weighted: weighted, startFromZero: start == "zero")
                }
            },
            Entry(kind: "centered-clipping", summary: "centered clipping from the previous aggregate (Karimireddy et al. 2021)") { r throws(ConfigError) in
                let tau = try r.double("tau", default: 100)
                let iterations = try r.int("iterations", default: 1)
                return try building(r, key: nil) { () throws(AggregationError) in try CenteredClipping(tau: tau, iterations: iterations) }
            },
            Entry(kind: "norm-bound", summary: "clip updates to a norm bound, then average (Sun et al. 2019)") { r throws(ConfigError) in
                let bound = try r.double("max_norm")
                let weighted = try r.bool("weighted", default: true)
                return try building(r, key: "max_norm") { () throws(AggregationError) in try NormBound(maxNorm: bound, weighted: weighted) }
            },
            Entry(kind: "fltrust", summary: "trust by cosine to the server's root update (Cao et al. 2021)") { _ throws(ConfigError) in
                FLTrust()
            },
            Entry(kind: "foolsgold", summary: "down-weight clients with alike histories (Fung et al. 2020)") { r throws(ConfigError) in
                let confidence = try r.double("confidence", default: 1)
                return try building(r, key: "confidence") { () throws(AggregationError) in try FoolsGold(confidence: confidence) }
            },
            Entry(kind: "flame", summary: "majority cosine cluster, median-norm clipping, noise (Nguyen et al. 2022)") { r throws(ConfigError) in
                let lambda = try r.double("lambda", default: 0.001)
                return try building(r, key: "lambda") { () throws(AggregationError) in try FLAME(lambda: lambda) }
            },
            Entry(kind: "dnc", summary: "Divide-and-Conquer spectral filtering (Shejwalkar and Houmansadr 2021)", boundKey: "f") { r throws(ConfigError) in
                let f = try r.int("f")
                let c = try r.double("c", default: 1)
                let iterations = try r.int("iterations", default: 1)
                let subsample = try r.int("subsample", default: 10_000)
                return try building(r, key: nil) { () throws(AggregationError) in
                    try DivideAndConquer(f: f, filterFraction: c, iterations: iterations, subsample: subsample)
                }
            },
        ],
        preEntries: [
            PreEntry(kind: "nnm", summary: "nearest-neighbour mixing (Allouah et al. 2023)", boundKey: "f") { r throws(ConfigError) in
                let f = try r.int("f")
                return try building(r, key: "f") { () throws(AggregationError) in try NearestNeighborMixing(f: f) }
            },
            PreEntry(kind: "bucketing", summary: "means of seeded random buckets of s (Karimireddy et al. 2022)", boundKey: "s") { r throws(ConfigError) in
                let s = try r.int("s")
                return try building(r, key: "s") { () throws(AggregationError) in try Bucketing(bucketSize: s) }
            },
            PreEntry(kind: "clip", summary: "clip each update to norm tau") { r throws(ConfigError) in
                let tau = try r.double("tau")
                return try building(r, key: "tau") { () throws(AggregationError) in try NormClipping(tau: tau) }
            },
        ])
}
