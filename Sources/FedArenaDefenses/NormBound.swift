import FedArenaCore
import FedArenaNumerics

/// Norm bounding: clip every update to Euclidean norm `M`, then take the sample-weighted mean.
///
/// Sun, Kairouz, Suresh and McMahan 2019, "Can You Really Backdoor Federated Learning?"
/// (norm thresholding of updates). Not a Byzantine-robust rule in the breakdown sense, but
/// bounds the influence of any one update to `M` times its weight.
///
/// YAML: `{kind: norm-bound, max_norm: 5.0, weighted: true}`. Weights: the normalised sample
/// counts (the coefficients of the clipped updates).
///
/// Trust weights: as in ``FedAvg``, `w_i` multiplies the sample-count weight before
/// renormalising (0 excludes).
public struct NormBound: Aggregator {
    /// The norm bound `M > 0`.
    public var maxNorm: Double
    /// Whether the mean is weighted by sample count.
    public var weighted: Bool

    /// Creates the rule.
    /// - Parameters:
    ///   - maxNorm: the bound `M > 0`.
    ///   - weighted: weight by sample count (default).
    /// - Throws: `.invalidConfiguration` when `maxNorm <= 0`.
    public init(maxNorm: Double, weighted: Bool = true) throws(AggregationError) {
        guard maxNorm.isFinite, maxNorm > 0 else { throw AggregationError(.invalidConfiguration, "norm-bound needs max_norm > 0, got \(maxNorm)") }
        self.maxNorm = maxNorm
        self.weighted = weighted
    }

    /// `norm-bound`.
    public var name: String { "norm-bound" }

    /// Clips and averages.
    /// - Throws: `.tooFewUpdates`, `.dimensionMismatch`, `.nonFinite`.
    public func aggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult {
        let batch = try UpdateBatch(updates, rule: name)
        let trust = batch.trust
        let counts = batch.sampleCounts
        var weights = (0..<batch.count).map { trust[$0] * (weighted ? Double(max(0, counts[$0])) : 1.0) }
        if weights.allSatisfy({ $0 == 0 }) { weights = trust }
        weights = UpdateBatch.normalised(weights)!
        let result: Result<[Float], AggregationError> = batch.withRows { rows in
            let norms = Statistics.squaredNorms(rows).map { $0.squareRoot() }
            if let bad = norms.firstIndex(where: { !$0.isFinite }) { return .failure(batch.nonFiniteError(rule: name, suspect: bad)) }
            let coefficients = (0..<rows.count).map { Float(weights[$0] * min(1, maxNorm / max(norms[$0], 1e-30))) }
            return .success(Statistics.linearCombination(rows, coefficients: coefficients))
        }
        let mean = try result.get()
        try batch.requireFiniteResult(mean, rule: name)
        return AggregationResult(aggregate: ParameterVector(mean), weights: batch.weights(weights))
    }
}
