import FedArenaCore
import FedArenaNumerics

/// Krum: the update whose `n − f − 2` nearest other updates are closest (smallest sum of
/// squared distances) is returned as the aggregate.
///
/// Blanchard, El Mhamdi, Guerraoui and Stainer 2017, "Machine Learning with Adversaries:
/// Byzantine Tolerant Gradient Descent", NeurIPS. Needs `n > 2f + 2`.
///
/// YAML: `{kind: krum, f: 10}`. Distances come from one Gram matrix (``PairwiseDistances``).
/// Ties go to the lower ``ClientID``. Weights: 1 for the selected client, 0 for the others.
public struct Krum: Aggregator {
    /// The number of Byzantine updates tolerated.
    public var f: Int

    /// Creates the rule.
    /// - Parameter f: the assumed number of Byzantine updates, `>= 0`.
    /// - Throws: `.invalidConfiguration` when `f < 0`.
    public init(f: Int) throws(AggregationError) {
        guard f >= 0 else { throw AggregationError(.invalidConfiguration, "krum needs f >= 0, got f = \(f)") }
        self.f = f
    }

    /// `krum`.
    public var name: String { "krum" }

    /// Needs `n > 2f + 2`.
    public func validate(inputCount: Int) throws(AggregationError) {
        if inputCount <= 2 * f + 2 {
            throw AggregationError(
                .tooFewUpdates, "krum needs n > 2f + 2, got n = \(inputCount), f = \(f) (2f + 2 = \(2 * f + 2))")
        }
    }

    /// Selects the update with the lowest Krum score.
    /// - Throws: `.tooFewUpdates`, `.dimensionMismatch`, `.nonFinite`.
    public func aggregate(
        _ updates: [ClientUpdate], context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult {
        try validate(inputCount: updates.count)
        let batch = try UpdateBatch(updates, rule: name)
        let distances = try KrumScoring.distances(batch, rule: name)
        let scores = KrumScoring.scores(distances, neighbours: batch.count - f - 2)
        let winner = KrumScoring.lowest(scores, count: 1)[0]
        var weights = [Double](repeating: 0, count: batch.count)
        weights[winner] = 1
        return AggregationResult(aggregate: batch.updates[winner].delta, weights: batch.weights(weights))
    }
}
