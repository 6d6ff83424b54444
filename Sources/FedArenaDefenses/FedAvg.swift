import FedArenaCore
import FedArenaNumerics

/// Federated averaging: the mean of the updates weighted by each client's sample count.
///
/// `Δ = Σ_i n_i Δ_i / Σ_i n_i` (McMahan et al. 2017, "Communication-Efficient Learning of Deep
/// Networks from Decentralized Data", AISTATS). With `weighted: false` every update counts the
/// same (the plain mean). Not robust: one large update moves the result arbitrarily far.
///
/// YAML: `{kind: fedavg, weighted: true}`.
///
/// Clients reporting a sample count of 0 (or less) get weight 0; when every count is 0 the
/// sample counts are ignored and the result carries a note.
///
/// Trust weights: `w_i` multiplies the sample-count weight and the weights are renormalised,
/// `Δ = Σ w_i n_i Δ_i / Σ w_i n_i` (0 excludes; `weighted: false` uses `w_i` alone).
public struct FedAvg: Aggregator {
    /// Whether updates are weighted by sample count (`true`) or equally (`false`).
    public var weighted: Bool

    /// Creates the rule.
    /// - Parameter weighted: weight by sample count (default) or equally.
    public init(weighted: Bool = true) {
        self.weighted = weighted
    }

    /// `fedavg`.
    public var name: String { "fedavg" }

    /// Averages the updates.
    /// - Parameters:
    ///   - updates: at least one update, all of one dimension.
    ///   - context: unused.
    ///   - rng: unused.
    /// - Returns: the weighted mean; weights are the normalised sample counts.
    /// - Throws: `.tooFewUpdates`, `.dimensionMismatch`, `.nonFinite`.
    public func aggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult {
        let batch = try UpdateBatch(updates, rule: name)
        var note: String?
        let trust = batch.trust
        let counts = batch.sampleCounts
        var weights = (0..<batch.count).map { trust[$0] * (weighted ? Double(max(0, counts[$0])) : 1.0) }
        if weights.allSatisfy({ $0 == 0 }) {
            weights = trust
            note = "every client reported 0 samples; ignored the sample counts"
        }
        weights = UpdateBatch.normalised(weights)!
        let mean = batch.withRows { rows in Statistics.linearCombination(rows, coefficients: weights.map { Float($0) }) }
        // NaN and infinity propagate into the sum, so checking the result is enough (one pass
        // over d values instead of n·d); rows of weight 0 are skipped by the sum, so check them.
        try batch.requireFiniteResult(mean, rule: name)
        if weights.contains(0) { try batch.requireFinite(rule: name) }
        return AggregationResult(aggregate: ParameterVector(mean), weights: batch.weights(weights), note: note)
    }
}
