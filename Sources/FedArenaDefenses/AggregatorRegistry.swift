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
    /// The table of rules (the generic ``Registry`` of Core).
    public typealias Rules = Registry<any Aggregator, Void, AggregatorTraits>
    /// The table of pre-aggregation stages.
    public typealias Stages = Registry<any PreAggregator, Void, PreAggregatorTraits>
    /// How to build one rule: kind, summary, ``AggregatorTraits`` and the builder.
    public typealias Entry = Rules.Entry
    /// How to build one pre-aggregation stage.
    public typealias PreEntry = Stages.Entry

    /// The rules.
    public private(set) var rules: Rules
    /// The pre-aggregation stages.
    public private(set) var stages: Stages

    /// The rules by YAML name.
    public var entries: [String: Entry] { rules.entries }
    /// The pre-aggregation stages by YAML name.
    public var preEntries: [String: PreEntry] { stages.entries }

    /// Creates a registry holding `entries` and `preEntries`.
    public init(entries: [Entry], preEntries: [PreEntry] = []) {
        rules = Rules("aggregator", entries: entries)
        stages = Stages("pre-aggregator", entries: preEntries)
    }

    /// Adds (or replaces) a rule.
    public mutating func register(_ entry: Entry) { rules.register(entry) }

    /// Adds (or replaces) a pre-aggregation stage.
    public mutating func register(_ entry: PreEntry) { stages.register(entry) }

    /// The known rule names, sorted.
    public var kinds: [String] { rules.kinds }

    /// The known pre-aggregation names, sorted.
    public var preKinds: [String] { stages.kinds }

    /// Every rule's traits by kind, for checks that must not import this module (an attack's
    /// target, ``AttackPlan``'s validation).
    public var catalog: [String: AggregatorTraits] { rules.entries.mapValues(\.traits) }

    /// The spec of rule `kind` with its ``AggregatorTraits/example`` options for a round.
    /// - Parameters:
    ///   - kind: a known rule.
    ///   - round: `n` and `f` of the round.
    ///   - keyPath: the spec's key path.
    /// - Returns: the spec, or `nil` for an unknown kind.
    public func example(_ kind: String, for round: AggregatorTraits.ExampleRound, keyPath: String = "example") -> ComponentSpec? {
        guard let entry = rules.entries[kind] else { return nil }
        return ComponentSpec(kind: kind, options: entry.traits.example(round), keyPath: keyPath)
    }

    /// Every rule with its example options, then every pre-aggregation stage (its example) in
    /// front of its ``PreAggregatorTraits/host`` rule: what `fedarena bench aggregators` times
    /// and the registry's tests run.
    /// - Parameters:
    ///   - round: `n` and `f` of the round.
    ///   - keyPath: the specs' key path.
    /// - Returns: the specs, rules in kind order, then chains in stage order.
    public func examples(for round: AggregatorTraits.ExampleRound, keyPath: String = "example") -> [ComponentSpec] {
        var specs = kinds.compactMap { example($0, for: round, keyPath: keyPath) }
        for stage in stages.sortedEntries {
            guard var host = example(stage.traits.host, for: round, keyPath: keyPath) else { continue }
            var options = stage.traits.example(round)
            options["kind"] = .string(stage.kind)
            host.options["pre"] = .array([.object(options)])
            specs.append(host)
        }
        return specs
    }

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
        try reader.building(key, body)
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
        let entry = try rules.entry(for: spec)
        let reader = try spec.reader()
        let rule = try entry.make(reader, ())
        var built = [BuiltStage]()
        for (path, value) in try reader.list("pre") {
            let stageReader = try ConfigReader(value, path: path)
            let kind = try stageReader.string("kind")
            let preEntry = try stages.entry(for: kind, keyPath: join(path, "kind"))
            let stage = try preEntry.make(stageReader, ())
            try stageReader.finish()
            built.append(BuiltStage(stage: stage, boundPath: preEntry.traits.boundKey.map { join(path, $0) } ?? path))
        }
        try reader.finish()
        return Built(stages: built, rule: rule, ruleBoundPath: entry.traits.boundKey.map { join(spec.keyPath, $0) } ?? spec.keyPath)
    }

    private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}

/// What the registry says about a pre-aggregation stage.
public struct PreAggregatorTraits: Sendable {
    /// The option its `n`-bound involves, or `nil`.
    public var boundKey: String?
    /// The bound in words, or `nil`.
    public var bound: String?
    /// The rule it is shown in front of in examples and the benchmark.
    public var host: String
    /// Typical options for a round.
    public var example: @Sendable (AggregatorTraits.ExampleRound) -> [String: ConfigValue]

    /// Creates traits.
    public init(
        boundKey: String? = nil, bound: String? = nil, host: String,
        example: @escaping @Sendable (AggregatorTraits.ExampleRound) -> [String: ConfigValue] = { _ in [:] }
    ) {
        self.boundKey = boundKey
        self.bound = bound
        self.host = host
        self.example = example
    }
}

extension Registry.Entry where Component == any Aggregator, Environment == Void, Traits == AggregatorTraits {
    /// A rule entry with only a bound key (its weight meaning unstated), for rules added outside
    /// the built-in table.
    public init(
        kind: String, summary: String, boundKey: String? = nil,
        make: @escaping @Sendable (ConfigReader) throws(ConfigError) -> any Aggregator
    ) {
        self.init(kind: kind, summary: summary, traits: AggregatorTraits(boundKey: boundKey, weightMeaning: "see the rule"), make: make)
    }
}

extension AggregatorRegistry {
    private static let unweighted = "counts as 1 (0 excludes)"

    /// Every built-in rule and pre-aggregation stage (one entry each). Examples follow the numpy
    /// anchor `shared/peers/agg_bench.py` where it has the rule (`β = f/n`, at most 0.4; geomed `ν = 0.1`,
    /// 3 steps from zero, centered clipping `τ = 100`, `L = 1`).
    public static let standard = AggregatorRegistry(
        entries: [
            Entry(
                kind: "fedavg", summary: "mean weighted by sample count (McMahan et al. 2017)",
                traits: AggregatorTraits([.sampleWeighted], weightMeaning: "multiplies the sample-count weight, renormalised") { _ in
                    ["weighted": .bool(false)]
                }
            ) { r throws(ConfigError) in
                FedAvg(weighted: try r.bool("weighted", default: true))
            },
            Entry(
                kind: "median", summary: "coordinate-wise median (Yin et al. 2018)",
                traits: AggregatorTraits([.coordinateWise], weightMeaning: unweighted)
            ) { _ throws(ConfigError) in
                CoordinateMedian()
            },
            Entry(
                kind: "trimmed-mean", summary: "coordinate-wise beta-trimmed mean (Yin et al. 2018)",
                traits: AggregatorTraits([.coordinateWise], boundKey: "beta", bound: "2⌊βn⌋ < n", weightMeaning: unweighted) { round in
                    ["beta": .double(min(Double(round.f) / Double(max(round.n, 1)), 0.4))]
                }
            ) { r throws(ConfigError) in
                let beta = try r.double("beta", default: 0.1)
                return try r.building("beta") { () throws(AggregationError) in try TrimmedMean(beta: beta) }
            },
            Entry(
                kind: "krum", summary: "Krum (Blanchard et al. 2017)",
                traits: AggregatorTraits([.krumSelection], boundKey: "f", bound: "n > 2f + 2", weightMeaning: unweighted) { round in
                    ["f": .int(round.f)]
                }
            ) { r throws(ConfigError) in
                let f = try r.int("f")
                return try r.building("f") { () throws(AggregationError) in try Krum(f: f) }
            },
            Entry(
                kind: "multi-krum", summary: "Multi-Krum, mean of the m best Krum scores (Blanchard et al. 2017)",
                traits: AggregatorTraits(
                    [.krumSelection], boundKey: "f", bound: "n > 2f + 2 and m <= n - f", weightMeaning: "weights the mean of the selected updates"
                ) { round in ["f": .int(round.f)] }
            ) { r throws(ConfigError) in
                let f = try r.int("f")
                let m = try r.optionalInt("m", atLeast: 1)
                return try r.building("f") { () throws(AggregationError) in try MultiKrum(f: f, m: m) }
            },
            Entry(
                kind: "bulyan", summary: "Bulyan: repeated Krum, then trimmed around the median (El Mhamdi et al. 2018)",
                traits: AggregatorTraits([.krumSelection], boundKey: "f", bound: "n >= 4f + 3", weightMeaning: unweighted) { round in
                    ["f": .int(round.f)]
                }
            ) { r throws(ConfigError) in
                let f = try r.int("f")
                return try r.building("f") { () throws(AggregationError) in try Bulyan(f: f) }
            },
            Entry(
                kind: "geomed", summary: "geometric median by smoothed Weiszfeld, RFA (Pillutla et al. 2022)",
                traits: AggregatorTraits([.sampleWeighted], weightMeaning: "multiplies the Weiszfeld weight alpha_i") { _ in
                    ["nu": .double(0.1), "iterations": .int(3), "tolerance": .double(0), "start": .string("zero"), "weighted": .bool(false)]
                }
            ) { r throws(ConfigError) in
                let nu = try r.double("nu", default: 1e-6)
                let iterations = try r.int("iterations", default: 100)
                let tolerance = try r.double("tolerance", default: 1e-5)
                let weighted = try r.bool("weighted", default: true)
                let start = try r.string("start", default: "mean", allowed: ["mean", "zero"])
                return try r.building(nil) { () throws(AggregationError) in
                    try GeometricMedian(nu: nu, iterations: iterations, tolerance: tolerance, weighted: weighted, startFromZero: start == "zero")
                }
            },
            Entry(
                kind: "centered-clipping", summary: "centered clipping from the previous aggregate (Karimireddy et al. 2021)",
                traits: AggregatorTraits(weightMeaning: "weights the mean of the clipped differences") { _ in
                    ["tau": .double(100), "iterations": .int(1)]
                }
            ) { r throws(ConfigError) in
                let tau = try r.double("tau", default: 100)
                let iterations = try r.int("iterations", default: 1)
                return try r.building(nil) { () throws(AggregationError) in try CenteredClipping(tau: tau, iterations: iterations) }
            },
            Entry(
                kind: "norm-bound", summary: "clip updates to a norm bound, then average (Sun et al. 2019)",
                traits: AggregatorTraits([.sampleWeighted], weightMeaning: "multiplies the sample-count weight, renormalised") { _ in
                    ["max_norm": .double(1)]
                }
            ) { r throws(ConfigError) in
                let bound = try r.double("max_norm")
                let weighted = try r.bool("weighted", default: true)
                return try r.building("max_norm") { () throws(AggregationError) in try NormBound(maxNorm: bound, weighted: weighted) }
            },
            Entry(
                kind: "fltrust", summary: "trust by cosine to the server's root update (Cao et al. 2021)",
                traits: AggregatorTraits(weightMeaning: "multiplies the trust score")
            ) { _ throws(ConfigError) in
                FLTrust()
            },
            Entry(
                kind: "foolsgold", summary: "down-weight clients with alike histories (Fung et al. 2020)",
                traits: AggregatorTraits(weightMeaning: "multiplies the learning rate alpha_i")
            ) { r throws(ConfigError) in
                let confidence = try r.double("confidence", default: 1)
                return try r.building("confidence") { () throws(AggregationError) in try FoolsGold(confidence: confidence) }
            },
            Entry(
                kind: "flame", summary: "majority cosine cluster, median-norm clipping, noise (Nguyen et al. 2022)",
                traits: AggregatorTraits(weightMeaning: "weights the mean of the admitted updates")
            ) { r throws(ConfigError) in
                let lambda = try r.double("lambda", default: 0.001)
                return try r.building("lambda") { () throws(AggregationError) in try FLAME(lambda: lambda) }
            },
            Entry(
                kind: "dnc", summary: "Divide-and-Conquer spectral filtering (Shejwalkar and Houmansadr 2021)",
                traits: AggregatorTraits(boundKey: "f", bound: "n > ⌊c·f⌋", weightMeaning: "weights the mean of the survivors") { round in
                    ["f": .int(round.f)]
                }
            ) { r throws(ConfigError) in
                let f = try r.int("f")
                let c = try r.double("c", default: 1)
                let iterations = try r.int("iterations", default: 1)
                let subsample = try r.int("subsample", default: 10_000)
                return try r.building(nil) { () throws(AggregationError) in
                    try DivideAndConquer(f: f, filterFraction: c, iterations: iterations, subsample: subsample)
                }
            },
        ],
        preEntries: [
            PreEntry(
                kind: "nnm", summary: "nearest-neighbour mixing (Allouah et al. 2023)",
                traits: PreAggregatorTraits(boundKey: "f", bound: "n > f", host: "krum") { round in ["f": .int(round.f)] }
            ) { r throws(ConfigError) in
                let f = try r.int("f")
                return try r.building("f") { () throws(AggregationError) in try NearestNeighborMixing(f: f) }
            },
            PreEntry(
                kind: "bucketing", summary: "means of seeded random buckets of s (Karimireddy et al. 2022)",
                traits: PreAggregatorTraits(boundKey: "s", bound: "s >= 1", host: "median") { _ in ["s": .int(2)] }
            ) { r throws(ConfigError) in
                let s = try r.int("s")
                return try r.building("s") { () throws(AggregationError) in try Bucketing(bucketSize: s) }
            },
            PreEntry(
                kind: "clip", summary: "clip each update to norm tau",
                traits: PreAggregatorTraits(boundKey: "tau", host: "fedavg") { _ in ["tau": .double(1)] }
            ) { r throws(ConfigError) in
                let tau = try r.double("tau")
                return try r.building("tau") { () throws(AggregationError) in try NormClipping(tau: tau) }
            },
        ])
}
