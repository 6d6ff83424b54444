import FedArenaCore
import FedArenaNumerics

/// Krum: the update whose `n − f − 2` nearest other updates are closest (smallest sum of
/// squared distances) is returned as the aggregate.
///
/// Blanchard, El Mhamdi, Guerraoui and Stainer 2017, "Machine Learning with Adversaries:
/// Byzantine Tolerant Gradient Descent", NeurIPS. Needs `n > 2f + 2`.
///
/// YAML: `{kind: krum, f: 10}`. Distances come from ``PairwiseDistances`` (centred, accurate
/// under any common offset) and the choice from ``KrumScoring``, the code Fang-Krum attacks:
/// it is the float64-exact choice, ties to the lower ``ClientID``. Weights: 1 for the selected
/// client, 0 for the others.
///
/// Trust weights: 0 excludes the update; a weight in (0, 1) counts as 1 (Krum selects one
/// update and returns it unscaled, so a fractional weight has nothing to act on).
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
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult {
        try validate(inputCount: updates.activeCount)
        let batch = try UpdateBatch(updates, rule: name)
        var distances = try batch.distances(rule: name)
        let winner = batch.withRows { rows in
            KrumScoring.selectLowest(&distances, rows: rows, neighbours: batch.count - f - 2, count: 1)[0]
        }
        var weights = [Double](repeating: 0, count: batch.count)
        weights[winner] = 1
        return AggregationResult(aggregate: batch.vector(winner), weights: batch.weights(weights))
    }
}
