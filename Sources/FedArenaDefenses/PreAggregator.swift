import FedArenaCore

/// A screening stage that transforms the round's updates before a robust rule merges them
/// (ByzFL's pre-aggregators: clipping, nearest-neighbour mixing, bucketing).
///
/// Stages chain like middleware (Hummingbird's `MiddlewareGroup`): ``PreAggregatedRule`` runs
/// `pre[0]`, hands its output to `pre[1]`, ..., then to the rule, and walks the rule's weights
/// back through every stage so that they still name the original clients.
///
/// ## Implementation requirements
/// - Conforming types are `struct`s, pure and deterministic given the generator they receive;
///   they read the round as one ``UpdateMatrix`` (canonical client order) and return one.
/// - Rows of weight 0 are excluded (they appear in no output); each stage documents the
///   weight its outputs carry.
/// - `init` throws ``AggregationError`` `.invalidConfiguration` for impossible parameters;
///   ``validate(inputCount:)`` throws `.tooFewUpdates` naming the stage, the numbers and the bound.
/// - ``preAggregate(_:context:using:)`` reports in ``PreAggregation/sources`` how each output
///   is made of the inputs, so that weights can be attributed back.
public protocol PreAggregator: Sendable {
    /// The YAML name of the stage (`nnm`, `bucketing`, `clip`).
    var name: String { get }

    /// How many updates come out of a round with `inputCount` updates.
    func outputCount(inputCount: Int) -> Int

    /// Checks that the stage can run on `inputCount` updates.
    /// - Throws: ``AggregationError`` `.tooFewUpdates` naming the bound.
    func validate(inputCount: Int) throws(AggregationError)

    /// Transforms the updates.
    /// - Parameters:
    ///   - updates: the updates (or the previous stage's output); rows of weight 0 are excluded.
    ///   - context: the round.
    ///   - rng: the round's generator (bucketing draws its buckets from it).
    /// - Returns: the transformed updates and how each is made of the inputs.
    /// - Throws: ``AggregationError`` for input the stage cannot use.
    func preAggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> PreAggregation
}

extension PreAggregator {
    /// Transforms `updates` (packed into one ``UpdateMatrix`` first: one copy).
    /// - Parameters:
    ///   - updates: the updates, in any order; ``ClientUpdate/weight`` is each row's weight.
    ///   - context: the round.
    ///   - rng: the round's generator.
    /// - Returns: the transformed updates and how each is made of the inputs.
    /// - Throws: ``AggregationError`` for input the stage cannot use.
    public func preAggregate(
        _ updates: [ClientUpdate], context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> PreAggregation {
        try preAggregate(try UpdateMatrix(updates, for: name), context: context, using: &rng)
    }

    /// One output per input by default.
    public func outputCount(inputCount: Int) -> Int { inputCount }

    /// Accepts any non-empty round by default.
    public func validate(inputCount: Int) throws(AggregationError) {
        if inputCount < 1 {
            throw AggregationError(.tooFewUpdates, "\(name) needs at least 1 update, got \(inputCount)")
        }
    }
}

/// What a ``PreAggregator`` produced: new updates and, for each, the input clients it mixes.
public struct PreAggregation: Sendable, Equatable {
    /// The transformed updates; their clients may be synthetic (bucket numbers).
    public var updates: UpdateMatrix
    /// For each output client, the coefficient of each input client in it
    /// (`output = Σ coefficient · input`, before any clipping). Weights are attributed back as
    /// `w(input) = Σ_output w(output) · coefficient`, which keeps linear weights summing to 1.
    public var sources: [ClientID: [ClientID: Double]]

    /// Creates a pre-aggregation.
    public init(updates: UpdateMatrix, sources: [ClientID: [ClientID: Double]]) {
        self.updates = updates
        self.sources = sources
    }

    /// A one-to-one transformation: output `i` comes from input `i` alone.
    public init(oneToOne updates: UpdateMatrix) {
        self.updates = updates
        self.sources = Dictionary(uniqueKeysWithValues: updates.clients.map { ($0, [$0: 1.0]) })
    }

    /// `weights` of the outputs attributed back to the inputs.
    public func attribute(_ weights: [ClientID: Double]) -> [ClientID: Double] {
        var result = [ClientID: Double]()
        for (output, weight) in weights {
            guard let parts = sources[output] else { continue }
            for (input, coefficient) in parts { result[input, default: 0] += weight * coefficient }
        }
        return result
    }
}

/// A robust rule preceded by a chain of ``PreAggregator`` stages: the value the registry
/// returns for `{kind: krum, f: 10, pre: [{kind: nnm, f: 10}]}`.
///
/// Weight attribution: each stage reports how its outputs mix its inputs; the rule's weights
/// are pushed back stage by stage with `w(input) = Σ_output w(output) · coefficient`. Through
/// NNM a client's weight is the weight of every mixed vector it took part in divided by
/// `n − f`; through bucketing, its bucket's weight divided by the bucket's size; clipping
/// passes weights through unchanged.
public struct PreAggregatedRule: Aggregator {
    /// The stages, applied in order.
    public var stages: [any PreAggregator]
    /// The rule that merges the last stage's output.
    public var rule: any Aggregator

    /// Chains `stages` in front of `rule`.
    public init(stages: [any PreAggregator], rule: any Aggregator) {
        self.stages = stages
        self.rule = rule
    }

    /// `pre1+pre2+rule`, for example `nnm+krum`.
    public var name: String { (stages.map(\.name) + [rule.name]).joined(separator: "+") }

    /// The rule's need for a reference update.
    public var requiresReferenceUpdate: Bool { rule.requiresReferenceUpdate }

    /// Checks every stage and then the rule against the count that reaches it.
    public func validate(inputCount: Int) throws(AggregationError) {
        var count = inputCount
        for stage in stages {
            try stage.validate(inputCount: count)
            count = stage.outputCount(inputCount: count)
        }
        try rule.validate(inputCount: count)
    }

    /// Runs the stages, the rule, and attributes the weights back to the original clients.
    /// - Throws: whatever a stage or the rule throws.
    public func aggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult {
        try validate(inputCount: updates.activeCount)
        var current = updates
        var trail = [PreAggregation]()
        for stage in stages {
            let output = try stage.preAggregate(current, context: context, using: &rng)
            trail.append(output)
            current = output.updates
        }
        var result = try rule.aggregate(current, context: context, using: &rng)
        for step in trail.reversed() { result.weights = step.attribute(result.weights) }
        for client in updates.clients where result.weights[client] == nil { result.weights[client] = 0 }
        return result
    }
}
