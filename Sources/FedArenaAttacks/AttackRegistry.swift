import FedArenaCore
import FedArenaSynthesis

/// Builds an ``AttackPlan`` from a scenario's `attack:` section, by YAML `kind`.
///
/// ```swift
/// let spec = ComponentSpec(kind: "label-flip", options: ["source": .int(0), "target": .int(6), "boost": .int(5)], keyPath: "attack")
/// let plan = try AttackRegistry.standard.make(spec)                     // AttackPlan
/// try plan.validate(againstRule: "multi-krum", f: 10, perRound: 50)     // scenario check
/// let malicious = try plan.maliciousClients(count: 50, seed: 42)
/// ```
///
/// Keys every plan reads, besides the attack's own (see each attack's doc comment):
/// - `fraction` (0 < fraction ≤ 1, default 0.2) or `clients: [ints]` (unique, not both);
/// - `knowledge: none|partial|omniscient` (default the attack's minimum; a lower one is an error);
/// - `start`, `every`, `end` or `at` (``AttackSchedule``);
/// - `boost: k` (data attacks only): send `k·Δ` of the update trained on the poisoned samples;
/// - `any_rule: true` (rule-tailored attacks only): run against any rule (``AttackPlan/anyRule``).
///
/// Options are read through ``ConfigReader``; ``ConfigReader/finish()`` rejects unknown keys
/// with a did-you-mean, and an attack's ``AttackError`` from `init` becomes a ``ConfigError``
/// `.invalidValue` at the offending key.
public struct AttackRegistry: Sendable {
    /// What the data set looks like (label-flip needs the class count, backdoor the image side).
    public struct DataShape: Sendable, Equatable {
        /// The number of classes.
        public var classCount: Int
        /// The image width and height.
        public var imageSide: Int
        /// Creates a shape.
        public init(classCount: Int, imageSide: Int) {
            self.classCount = classCount
            self.imageSide = imageSide
        }
        /// Fashion-MNIST: 10 classes of 28x28 images.
        public static let fashionMNIST = DataShape(classCount: 10, imageSide: 28)
    }

    /// What an entry builds.
    public enum Component: Sendable {
        /// A data-poisoning attack.
        case data(any DataAttack)
        /// A model-poisoning attack.
        case update(any UpdateAttack)
    }

    /// What an attack declares about itself.
    public struct Traits: Sendable, Equatable {
        /// The fewest updates the attack must know per round (see ``AttackPlan/minimumKnownUpdates``).
        public var minimumKnownUpdates: Int
        /// The kind of aggregation rule it is tailored to, or `nil` (matched against the rules'
        /// ``AggregatorTraits``, so a new Krum-like rule is a target without editing the attack).
        public var target: AggregatorTraits.Trait?

        /// Creates traits.
        public init(minimumKnownUpdates: Int = 1, target: AggregatorTraits.Trait? = nil) {
            self.minimumKnownUpdates = minimumKnownUpdates
            self.target = target
        }
    }

    /// The table of attacks (the generic ``Registry`` of Core).
    public typealias Attacks = Registry<Component, DataShape, Traits>
    /// How to build one attack.
    public typealias Entry = Attacks.Entry

    /// The attacks.
    public private(set) var attacks: Attacks

    /// The attacks by YAML name.
    public var entries: [String: Entry] { attacks.entries }

    /// Creates a registry holding `entries`.
    public init(entries: [Entry]) {
        attacks = Attacks("attack", entries: entries)
    }

    /// Adds (or replaces) an attack.
    public mutating func register(_ entry: Entry) { attacks.register(entry) }

    /// The known attack names, sorted.
    public var kinds: [String] { attacks.kinds }

    /// Builds the plan `spec` describes.
    /// - Parameters:
    ///   - spec: the `attack` mapping (`kind` and the other keys).
    ///   - shape: the data set's class count and image side (default Fashion-MNIST).
    /// - Returns: the plan.
    /// - Throws: ``ConfigError`` for an unknown kind (with a did-you-mean and the known kinds),
    ///   an unknown key, a wrong type, an impossible value, or knowledge below the attack's
    ///   minimum, at its key path.
    public func make(_ spec: ComponentSpec, shape: DataShape = .fashionMNIST) throws(ConfigError) -> AttackPlan {
        let entry = try attacks.entry(for: spec)
        let reader = try spec.reader()
        let component = try entry.make(reader, shape)

        var dataAttack: (any DataAttack)?
        var updateAttack: (any UpdateAttack)?
        switch component {
        case .data(let attack):
            dataAttack = attack
            if reader.contains("boost") {
                let factor = try reader.double("boost")
                updateAttack = try Self.building(reader, key: "boost") { () throws(AttackError) in try Boost(factor: factor, objective: attack.objective) }
            } else {
                _ = reader.raw("boost")
            }
        case .update(let attack):
            updateAttack = attack
            if reader.contains("boost") {
                throw reader.error("boost", "applies only after a data attack (label-flip, backdoor); \(spec.kind) crafts its update itself")
            }
        }

        let required = updateAttack?.requiredKnowledge ?? .none
        let knowledgeName = try reader.string("knowledge", default: required.rawValue, allowed: ["none", "partial", "omniscient"])
        let knowledge = AttackKnowledge(rawValue: knowledgeName)!
        if knowledge < required {
            throw reader.error("knowledge", "\(spec.kind) needs knowledge \(required.rawValue) or more, got \(knowledge.rawValue)")
        }

        var clients: [ClientID]?
        let fraction: Double
        if reader.contains("clients") {
            if reader.contains("fraction") {
                throw reader.error("fraction", "give either fraction or an explicit clients list, not both")
            }
            _ = reader.raw("fraction")
            let list = try reader.intArray("clients", elementsAtLeast: 0)
            if list.isEmpty { throw reader.error("clients", "needs at least one client") }
            var seen = Set<Int>()
            for (index, client) in list.enumerated() where !seen.insert(client).inserted {
                throw ConfigError(.invalidValue, keyPath: "\(reader.keyPath("clients"))[\(index)]", "client \(client) is listed twice")
            }
            clients = list.map(ClientID.init)
            fraction = 0
        } else {
            _ = reader.raw("clients")
            fraction = try reader.double("fraction", default: 0.2)
            if !(fraction > 0 && fraction <= 1) { throw reader.error("fraction", "must be in (0, 1], got \(fraction)") }
        }
        let schedule = try AttackSchedule.read(from: reader)
        let anyRule = try reader.bool("any_rule", default: false)
        if anyRule, entry.traits.target == nil {
            throw reader.error("any_rule", "\(spec.kind) is not tailored to a kind of rule; any_rule applies only to fang-krum and fang-trim")
        }
        let forgesSketch = try reader.bool("forge_sketch", default: false)
        if forgesSketch, dataAttack == nil {
            throw reader.error("forge_sketch", "only a data attack trains on data other than its own; \(spec.kind) has nothing to hide")
        }
        try reader.finish()
        var plan = AttackPlan(
            kind: spec.kind, dataAttack: dataAttack, updateAttack: updateAttack, knowledge: knowledge, schedule: schedule,
            fraction: fraction, clients: clients, minimumKnownUpdates: entry.traits.minimumKnownUpdates, target: entry.traits.target,
            keyPath: spec.keyPath)
        plan.forgesSketch = forgesSketch
        plan.anyRule = anyRule
        return plan
    }

    /// Runs an attack's throwing `init`, turning its ``AttackError`` into a ``ConfigError``
    /// `.invalidValue` at `key` of `reader` (or at the reader's own path when `key` is `nil`).
    public static func building<T>(_ reader: ConfigReader, key: String?, _ body: () throws(AttackError) -> T) throws(ConfigError) -> T {
        try reader.building(key, body)
    }

}

extension Registry.Entry where Component == AttackRegistry.Component, Environment == AttackRegistry.DataShape, Traits == AttackRegistry.Traits {
    /// An attack entry.
    /// - Parameters:
    ///   - kind: the YAML name.
    ///   - summary: one line for help.
    ///   - minimumKnownUpdates: the fewest updates it must know per round.
    ///   - target: the kind of rule it is tailored to, or `nil`.
    ///   - make: reads the attack's options and builds it.
    public init(
        kind: String, summary: String, minimumKnownUpdates: Int = 1, target: AggregatorTraits.Trait? = nil,
        make: @escaping @Sendable (ConfigReader, AttackRegistry.DataShape) throws(ConfigError) -> AttackRegistry.Component
    ) {
        self.init(kind: kind, summary: summary, traits: AttackRegistry.Traits(minimumKnownUpdates: minimumKnownUpdates, target: target), make: make)
    }
}

extension AttackRegistry {
    /// Every built-in attack (one entry each).
    public static let standard = AttackRegistry(entries: [
        Entry(kind: "label-flip", summary: "flip labels l -> C-1-l, or source -> target (Fang et al. 2020; Tolpegin et al. 2020)") { r, shape throws(ConfigError) in
            let source = try r.optionalInt("source", atLeast: 0)
            let target = try r.optionalInt("target", atLeast: 0)
            let rate = try r.double("rate", default: 1)
            let key = source == nil && target != nil ? "target" : (rate < 0 || rate > 1 ? "rate" : "source")
            return .data(try building(r, key: key) { () throws(AttackError) in
                try LabelFlip(source: source, target: target, rate: rate, classCount: shape.classCount)
            })
        },
        Entry(kind: "backdoor", summary: "pixel-pattern trigger relabelled to a target (Gu et al. 2017; Bagdasaryan et al. 2020)") { r, shape throws(ConfigError) in
            let target = try r.int("target", default: 0, range: 0...max(shape.classCount - 1, 0))
            let rate = try r.double("rate", default: 0.5, range: 0...1)
            let mode = try r.string("mode", default: "replace", allowed: Backdoor.Mode.allCases.map(\.rawValue))
            // Default: a 3x3 white patch one pixel from the bottom-right corner (24, 24 on 28x28).
            let side = shape.imageSide
            var trigger = Trigger(imageSide: side, row: max(0, side - 4), column: max(0, side - 4), size: min(3, side), value: 1)
            if let t = try r.child("trigger") {
                trigger.size = try t.int("size", default: trigger.size, atLeast: 1)
                let corner = max(0, side - trigger.size - 1)
                trigger.row = try t.int("row", default: corner, atLeast: 0)
                trigger.column = try t.int("column", default: corner, atLeast: 0)
                trigger.value = Float(try t.double("value", default: 1, range: 0...1))
                try t.finish()
            }
            let stamp = trigger
            return .data(try building(r, key: "trigger") { () throws(AttackError) in
                try Backdoor(trigger: stamp, target: target, rate: rate, mode: Backdoor.Mode(rawValue: mode)!, classCount: shape.classCount)
            })
        },
        Entry(kind: "synthetic-poison", summary: "train on poisoned synthetic data from a generator fitted to the client's own data") { r, shape throws(ConfigError) in
            // The generator defaults to gaussian-pca, the strongest of the built-in ones here.
            var generatorOptions = [String: ConfigValue]()
            var generatorPath = r.keyPath("generator")
            if let generatorSpec = try r.child("generator") {
                for key in generatorSpec.keys { generatorOptions[key] = generatorSpec.raw(key) }
                generatorPath = generatorSpec.path
            }
            let generatorKind: String
            switch generatorOptions.removeValue(forKey: "kind") {
            case .string(let kind)?: generatorKind = kind
            case nil: generatorKind = "gaussian-pca"
            case let other?:
                throw ConfigError(.wrongType, keyPath: generatorPath + ".kind", "expected a generator name, got \(other.typeName)")
            }
            let generator = try GeneratorRegistry.standard.make(
                ComponentSpec(kind: generatorKind, options: generatorOptions, keyPath: generatorPath))
            var mode = SyntheticPoison.Mode.none
            if let p = try r.child("poison") {
                let kind = try p.string("kind", allowed: ["label-flip", "backdoor", "bias", "none"])
                switch kind {
                case "label-flip":
                    let source = try p.optionalInt("source", atLeast: 0)
                    let target = try p.optionalInt("target", atLeast: 0)
                    let rate = try p.double("rate", default: 1, range: 0...1)
                    mode = .labelFlip(try building(p, key: "source") { () throws(AttackError) in
                        try LabelFlip(source: source, target: target, rate: rate, classCount: shape.classCount)
                    })
                case "backdoor":
                    let target = try p.int("target", default: 0, range: 0...max(shape.classCount - 1, 0))
                    let rate = try p.double("rate", default: 0.5, range: 0...1)
                    var trigger = Trigger(imageSide: shape.imageSide)
                    if let t = try p.child("trigger") {
                        trigger.row = try t.int("row", default: trigger.row, atLeast: 0)
                        trigger.column = try t.int("column", default: trigger.column, atLeast: 0)
                        trigger.size = try t.int("size", default: trigger.size, atLeast: 1)
                        trigger.value = Float(try t.double("value", default: Double(trigger.value), range: 0...1))
                        try t.finish()
                    }
                    let stamp = trigger
                    mode = .backdoor(try building(p, key: "trigger") { () throws(AttackError) in
                        try Backdoor(trigger: stamp, target: target, rate: rate, classCount: shape.classCount)
                    })
                case "bias":
                    mode = .bias(classes: try p.intArray("classes", elementsAtLeast: 0))
                default:
                    mode = .none
                }
                try p.finish()
            }
            let mix = try r.double("mix", default: 1, range: 0...1)
            let generations = try r.int("generations", default: 1, range: 1...100)
            let temperature = try r.positiveDouble("temperature", default: 1)
            let keep: Double? = r.contains("stealth_keep") ? try r.double("stealth_keep", range: 0.01...1) : nil
            _ = r.raw("stealth_keep")
            let quantise = try r.bool("quantise", default: false)
            let clampBackground = try r.bool("clamp_background", default: false)
            let poisonSteps = try r.double("poison_steps", default: 1, range: 0.000_001...1)
            let chosen = mode
            return .data(try building(r, key: nil) { () throws(AttackError) in
                try SyntheticPoison(
                    generator: generator, mode: chosen, mix: mix, generations: generations, temperature: temperature,
                    stealthKeep: keep, quantise: quantise, clampBackground: clampBackground, poisonedStepFraction: poisonSteps,
                    classCount: shape.classCount)
            })
        },
        Entry(kind: "boost", summary: "scale the honest update by a factor (naive model replacement)") { r, _ throws(ConfigError) in
            let factor = try r.double("factor", default: 10)
            return .update(try building(r, key: "factor") { () throws(AttackError) in try Boost(factor: factor) })
        },
        Entry(kind: "sign-flip", summary: "send -k times the honest update (Li et al. 2019)") { r, _ throws(ConfigError) in
            let scale = try r.double("scale", default: 1)
            return .update(try building(r, key: "scale") { () throws(AttackError) in try SignFlip(scale: scale) })
        },
        Entry(kind: "gaussian", summary: "send N(0, sigma^2) noise (Blanchard et al. 2017)") { r, _ throws(ConfigError) in
            let sigma = try r.double("sigma", default: 1)
            return .update(try building(r, key: "sigma") { () throws(AttackError) in try GaussianNoise(sigma: sigma) })
        },
        Entry(kind: "alie", summary: "mean - z std, A Little Is Enough (Baruch et al. 2019)", minimumKnownUpdates: 2) { r, _ throws(ConfigError) in
            let z: Double? = r.contains("z") ? try r.double("z") : nil
            _ = r.raw("z")
            return .update(try building(r, key: "z") { () throws(AttackError) in try ALIE(z: z) })
        },
        Entry(kind: "ipm", summary: "-epsilon times the honest mean, inner-product manipulation (Xie et al. 2019)") { r, _ throws(ConfigError) in
            let epsilon = try r.double("epsilon", default: 0.5)
            return .update(try building(r, key: "epsilon") { () throws(AttackError) in try InnerProductManipulation(epsilon: epsilon) })
        },
        Entry(kind: "mimic", summary: "copy one honest client's update (Karimireddy, He and Jaggi 2022)") { r, _ throws(ConfigError) in
            let target: Mimic.Target
            switch r.raw("target") {
            case nil, .string("auto")?: target = .mostExtreme
            case .int(let index)?:
                if index < 0 { throw r.error("target", "must be auto or a client index >= 0 among the round's honest updates, got \(index)") }
                target = .fixed(index)
            case .string(let word)?:
                throw r.error("target", "must be auto or a client index >= 0, got \"\(word)\"")
            case let other?:
                throw r.error("target", "expected auto or an index >= 0, got \(other.typeName) \(other)", code: .wrongType)
            }
            return .update(try building(r, key: "target") { () throws(AttackError) in try Mimic(target: target) })
        },
        Entry(kind: "fang-krum", summary: "-lambda sign(mean), lambda halved until Krum picks it (Fang et al. 2020)", target: .krumSelection) { r, _ throws(ConfigError) in
            let f = try r.optionalInt("f", atLeast: 0)
            let threshold = try r.double("threshold", default: 1e-5)
            return .update(try building(r, key: "threshold") { () throws(AttackError) in try FangKrum(f: f, threshold: threshold) })
        },
        Entry(kind: "fang-trim", summary: "per coordinate beyond the benign extremes (Fang et al. 2020)", target: .coordinateWise) { r, _ throws(ConfigError) in
            let b = try r.double("b", default: 2)
            return .update(try building(r, key: "b") { () throws(AttackError) in try FangTrim(b: b) })
        },
        Entry(kind: "min-max", summary: "mean + gamma perturbation within the max pairwise distance (Shejwalkar and Houmansadr 2021)", minimumKnownUpdates: 2) { r, _ throws(ConfigError) in
            let (perturbation, gammaInit, tolerance) = try readAgnostic(r)
            return .update(try building(r, key: nil) { () throws(AttackError) in
                try AgnosticAttack(criterion: .minMax, perturbation: perturbation, gammaInit: gammaInit, tolerance: tolerance)
            })
        },
        Entry(kind: "min-sum", summary: "mean + gamma perturbation within the max sum of distances (Shejwalkar and Houmansadr 2021)", minimumKnownUpdates: 2) { r, _ throws(ConfigError) in
            let (perturbation, gammaInit, tolerance) = try readAgnostic(r)
            return .update(try building(r, key: nil) { () throws(AttackError) in
                try AgnosticAttack(criterion: .minSum, perturbation: perturbation, gammaInit: gammaInit, tolerance: tolerance)
            })
        },
    ])

    private static func readAgnostic(_ r: ConfigReader) throws(ConfigError) -> (Perturbation, Double, Double) {
        let name = try r.string("perturbation", default: Perturbation.std.rawValue, allowed: Perturbation.allCases.map(\.rawValue))
        let gammaInit = try r.positiveDouble("gamma_init", default: 10)
        let tolerance = try r.double("tolerance", default: 1e-5)
        if !(tolerance > 0 && tolerance < 1) { throw r.error("tolerance", "must be in (0, 1), got \(tolerance)") }
        return (Perturbation(rawValue: name)!, gammaInit, tolerance)
    }
}
