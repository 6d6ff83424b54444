import FedArenaCore
import FedArenaNumerics

/// Multi-Krum: the plain mean of the `m` updates with the lowest Krum scores.
///
/// Blanchard, El Mhamdi, Guerraoui and Stainer 2017, "Machine Learning with Adversaries:
/// Byzantine Tolerant Gradient Descent", NeurIPS (Multi-Krum, section 5). Needs `n > 2f + 2`
/// and `m <= n − f`; `m` defaults to `n − f`.
///
/// YAML: `{kind: multi-krum, f: 10, m: 30}` (`m` optional). The selection is ``Krum``'s
/// (float64-exact, ties to the lower ``ClientID``). Weights: `1/m` for each selected client, 0
/// for the others.
///
/// Trust weights: 0 excludes the update; a weight in (0, 1) does not change the selection but
/// weights the mean of the selected updates (`Σ w_i Δ_i / Σ w_i` over the selection).
public struct MultiKrum: Aggregator {
    /// The number of Byzantine updates tolerated.
    public var f: Int
    /// How many updates are averaged, or `nil` for `n − f`.
    public var m: Int?

    /// Creates the rule.
    /// - Parameters:
    ///   - f: the assumed number of Byzantine updates, `>= 0`.
    ///   - m: how many updates to average, `>= 1`, or `nil` for `n − f`.
    /// - Throws: `.invalidConfiguration` when `f < 0` or `m < 1`.
    public init(f: Int, m: Int? = nil) throws(AggregationError) {
        guard f >= 0 else { throw AggregationError(.invalidConfiguration, "multi-krum needs f >= 0, got f = \(f)") }
        if let m, m < 1 { throw AggregationError(.invalidConfiguration, "multi-krum needs m >= 1, got m = \(m)") }
        self.f = f
        self.m = m
    }

    /// `multi-krum`.
    public var name: String { "multi-krum" }

    /// The number of updates averaged in a round of `n`.
    public func selectionCount(inputCount n: Int) -> Int { m ?? (n - f) }

    /// Needs `n > 2f + 2` and `m <= n − f`.
    public func validate(inputCount: Int) throws(AggregationError) {
        if inputCount <= 2 * f + 2 {
            throw AggregationError(
                .tooFewUpdates, "multi-krum needs n > 2f + 2, got n = \(inputCount), f = \(f) (2f + 2 = \(2 * f + 2))")
        }
        if let m, m > inputCount - f {
            throw AggregationError(
                .tooFewUpdates, "multi-krum needs m <= n - f, got m = \(m), n = \(inputCount), f = \(f) (n - f = \(inputCount - f))")
        }
    }

    /// Averages the `m` lowest-scoring updates.
    /// - Throws: `.tooFewUpdates`, `.dimensionMismatch`, `.nonFinite`.
    public func aggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult {
        try validate(inputCount: updates.activeCount)
        let batch = try UpdateBatch(updates, rule: name)
        var distances = try batch.distances(rule: name)
        let count = selectionCount(inputCount: batch.count)
        let selected = batch.withRows { rows in
            KrumScoring.selectLowest(&distances, rows: rows, neighbours: batch.count - f - 2, count: count)
        }
        let trust = batch.trust
        let total = selected.reduce(0) { $0 + trust[$1] }
        var weights = [Double](repeating: 0, count: batch.count)
        for index in selected { weights[index] = trust[index] / total }
        let mean = batch.withRows { Statistics.linearCombination($0, coefficients: weights.map { Float($0) }) }
        try batch.requireFiniteResult(mean, rule: name)
        return AggregationResult(aggregate: ParameterVector(mean), weights: batch.weights(weights))
    }
}
