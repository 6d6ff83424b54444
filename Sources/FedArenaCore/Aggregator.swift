/// A rule that merges client updates into one update.
///
/// ## Implementation requirements
/// - Conforming types are `struct`s: pure, synchronous and deterministic given the random
///   number generator they receive. The result must not depend on the order of `updates`
///   (the runtime passes them sorted by ``ClientID``, but rules must not rely on it).
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
    /// - Parameter inputCount: the number of updates in a round.
    /// - Throws: ``AggregationError`` with code `.tooFewUpdates`, naming the bound.
    func validate(inputCount: Int) throws(AggregationError)

    /// Merges `updates` into one update.
    /// - Parameters:
    ///   - updates: the accepted updates of the round, all of the same dimension.
    ///   - context: what the coordinator knows about the round.
    ///   - rng: the round's seeded generator, for rules that randomise (FLAME's noise).
    /// - Returns: the merged update with per-client weights.
    /// - Throws: ``AggregationError`` for input the rule cannot merge.
    func aggregate(
        _ updates: [ClientUpdate], context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult
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
