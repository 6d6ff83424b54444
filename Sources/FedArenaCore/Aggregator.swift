/// A rule that merges client updates into one update.
///
/// ## Implementation requirements
/// - Conforming types are `struct`s: pure, synchronous and deterministic given the random
///   number generator they receive. They read the round as one ``UpdateMatrix`` (rows in
///   ascending ``ClientID`` order, which makes the result independent of arrival order) and
///   never copy it into per-client arrays.
/// - Weights (``UpdateMatrix/weights``, ``ClientUpdate/weight``): a row of weight 0 is
///   excluded (it gets weight 0 in the result and does not count towards the bound); what a
///   weight in (0, 1) does is the rule's choice and is stated in its documentation and tested.
/// - `init` throws ``AggregationError`` with code `.invalidConfiguration` for impossible
///   parameters; ``validate(inputCount:)`` throws `.tooFewUpdates` when a round with `n`
///   updates cannot satisfy the rule's bound (for example Krum's `n > 2f + 2`), naming the
///   rule, the numbers and the bound.
/// - ``aggregate(_:context:using:)`` throws `.dimensionMismatch`, `.nonFinite` or
///   `.tooFewUpdates` for bad input and never traps on what clients sent.
/// - Every rule passes the conformance verifier in `FedArenaTesting`.
public protocol Aggregator: Sendable {
    /// The YAML name of the rule (`fedavg`, `krum`, ...).
    var name: String { get }

    /// Whether the rule needs ``RoundContext/referenceUpdate`` (FLTrust's root update); the
    /// coordinator then trains on its root set each round before aggregating.
    var requiresReferenceUpdate: Bool { get }

    /// Checks that the rule can run on `inputCount` updates.
    /// - Parameter inputCount: the number of updates in a round with a positive weight.
    /// - Throws: ``AggregationError`` with code `.tooFewUpdates`, naming the bound.
    func validate(inputCount: Int) throws(AggregationError)

    /// Merges the rows of `updates` into one update.
    /// - Parameters:
    ///   - updates: the round's updates as one block; rows of weight 0 are excluded.
    ///   - context: what the coordinator knows about the round.
    ///   - rng: the round's seeded generator, for rules that randomise (FLAME's noise).
    /// - Returns: the merged update with a weight for every client of `updates`.
    /// - Throws: ``AggregationError`` for input the rule cannot merge.
    func aggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult
}

extension Aggregator {
    /// Merges `updates` (packed into one ``UpdateMatrix`` first: one copy).
    /// - Parameters:
    ///   - updates: the round's updates, in any order; ``ClientUpdate/weight`` is each row's weight.
    ///   - context: what the coordinator knows about the round.
    ///   - rng: the round's seeded generator.
    /// - Returns: the merged update with per-client weights.
    /// - Throws: ``AggregationError`` for input the rule cannot merge.
    public func aggregate(
        _ updates: [ClientUpdate], context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult {
        try aggregate(try UpdateMatrix(updates, for: name), context: context, using: &rng)
    }
}

/// What the registry says about a rule, for attacks that target a kind of rule and for help
/// text, benchmarks and tests that must cover every rule without listing them.
public struct AggregatorTraits: Sendable {
    /// A property an attack can target.
    public enum Trait: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// Merges coordinate by coordinate (median, trimmed mean): Fang-Trim's target.
        case coordinateWise = "coordinate-wise"
        /// Selects updates by Krum scores (Krum, Multi-Krum, Bulyan): Fang-Krum's target.
        case krumSelection = "krum-selection"
        /// Uses sample counts as weights.
        case sampleWeighted = "sample-weighted"

        public var description: String { rawValue }
    }

    /// The rule's properties.
    public var traits: Set<Trait>
    /// The option its `n`-bound involves (`f` for Krum), where ``Aggregator/validate(inputCount:)``
    /// failures are reported; `nil` when any non-empty round works.
    public var boundKey: String?
    /// The bound in words (`n > 2f + 2`), or `nil`.
    public var bound: String?
    /// How a trust weight in (0, 1) acts (one phrase, for help and the README).
    public var weightMeaning: String
    /// Typical options for a round of `n` updates with `f` Byzantine ones: what the benchmark,
    /// the registry's tests and `fedarena aggregate --help` run (so none of them lists rules).
    public var example: @Sendable (ExampleRound) -> [String: ConfigValue]

    /// The round an ``example`` is for.
    public struct ExampleRound: Sendable, Equatable {
        /// Updates per round.
        public var n: Int
        /// Assumed Byzantine updates.
        public var f: Int
        /// Creates a round.
        public init(n: Int, f: Int) {
            self.n = n
            self.f = f
        }
    }

    /// Creates traits.
    /// - Parameters:
    ///   - traits: the rule's properties.
    ///   - boundKey: the option its bound involves.
    ///   - bound: the bound in words.
    ///   - weightMeaning: what a trust weight in (0, 1) does.
    ///   - example: typical options for a round (default: none).
    public init(
        _ traits: Set<Trait> = [], boundKey: String? = nil, bound: String? = nil, weightMeaning: String,
        example: @escaping @Sendable (ExampleRound) -> [String: ConfigValue] = { _ in [:] }
    ) {
        self.traits = traits
        self.boundKey = boundKey
        self.bound = bound
        self.weightMeaning = weightMeaning
        self.example = example
    }

    /// Whether the rule has `trait`.
    public func has(_ trait: Trait) -> Bool { traits.contains(trait) }
}

extension Aggregator {
    /// Most rules need no reference update.
    public var requiresReferenceUpdate: Bool { false }

    /// Accepts any non-empty round by default.
    public func validate(inputCount: Int) throws(AggregationError) {
        if inputCount < 1 {
            throw AggregationError(.tooFewUpdates, "\(name) needs at least 1 update, got \(inputCount)")
        }
    }
}

/// The output of an ``Aggregator``: the merged update and how much each client counted.
public struct AggregationResult: Sendable, Equatable {
    /// The merged update `Δ`.
    public var aggregate: ParameterVector
    /// The weight each client's update received in `Δ` (0 for a client that was not selected).
    /// Weights of linear rules sum to 1; coordinate-wise rules report the share of coordinates
    /// at which the client's value was used.
    public var weights: [ClientID: Double]
    /// A short note on anything unusual (a fallback taken, a cluster dropped), or `nil`.
    public var note: String?
    /// The state a stateful rule (FoolsGold's history) keeps for the next round; the runtime
    /// stores it and hands it back in ``RoundContext/memory``. `nil` keeps the old memory.
    public var memory: AggregatorMemory?

    /// Creates a result.
    public init(aggregate: ParameterVector, weights: [ClientID: Double], note: String? = nil, memory: AggregatorMemory? = nil) {
        self.aggregate = aggregate
        self.weights = weights
        self.note = note
        self.memory = memory
    }

    /// The clients whose weight is positive, in ascending order.
    public var selected: [ClientID] { weights.filter { $0.value > 0 }.map(\.key).sorted() }
}
