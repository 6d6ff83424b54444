import FedArenaCore
import FedArenaNumerics

/// Centered clipping: starting from the previous round's aggregate `v` (zero when absent),
/// repeat `L` times `v ← v + (1/n) Σ_i clip_τ(Δ_i − v)` with `clip_τ(u) = u · min(1, τ/‖u‖)`.
///
/// Karimireddy, He and Jaggi 2021, "Learning from History for Byzantine Robust
/// Optimization", ICML. Defaults follow ByzFL (`τ = 100`, `L = 1`).
///
/// YAML: `{kind: centered-clipping, tau: 100, iterations: 1}`. Reads
/// ``RoundContext/previousAggregate``. Weights: each client's coefficient in the final `v`
/// written as `a·v₀ + Σ_i w_i Δ_i` (they sum to `1 − a`; to 1 when no step clips).
///
/// Trust weights: the mean `(1/n) Σ_i` becomes the weighted mean `Σ_i (t_i / Σ t) ·` of the
/// clipped differences (0 excludes).
public struct CenteredClipping: Aggregator {
    /// The clipping radius `τ > 0`.
    public var tau: Double
    /// The number of clipping steps `L >= 1`.
    public var iterations: Int

    /// Creates the rule.
    /// - Parameters:
    ///   - tau: the clipping radius, `> 0`.
    ///   - iterations: the number of steps, `>= 1`.
    /// - Throws: `.invalidConfiguration` for `tau <= 0` or `iterations < 1`.
    public init(tau: Double = 100, iterations: Int = 1) throws(AggregationError) {
        guard tau.isFinite, tau > 0 else { throw AggregationError(.invalidConfiguration, "centered-clipping needs tau > 0, got tau = \(tau)") }
        guard iterations >= 1 else { throw AggregationError(.invalidConfiguration, "centered-clipping needs iterations >= 1, got \(iterations)") }
        self.tau = tau
        self.iterations = iterations
    }

    /// `centered-clipping`.
    public var name: String { "centered-clipping" }

    /// Runs the clipping steps.
    /// - Throws: `.tooFewUpdates`, `.dimensionMismatch` (also for a previous aggregate of
    ///   another dimension), `.nonFinite`.
    public func aggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult {
        let batch = try UpdateBatch(updates, rule: name)
        if let previous = context.previousAggregate { try batch.requireCompatible(previous, named: "previous aggregate", rule: name) }
        let n = batch.count
        let share = UpdateBatch.normalised(batch.trust)!
        let result: Result<([Float], [Double]), AggregationError> = batch.withRows { rows in
            var v = context.previousAggregate?.values ?? [Float](repeating: 0, count: rows.columns)
            var coefficients = [Double](repeating: 0, count: n)
            for _ in 0..<iterations {
                var scales = [Double](repeating: 0, count: n)
                v.withUnsafeBufferPointer { vp in
                    for i in 0..<n {
                        let norm = Statistics.squaredDistance(rows[i], vp.baseAddress!, count: rows.columns).squareRoot()
                        scales[i] = norm.isFinite ? min(1, tau / max(norm, 1e-12)) : .nan
                    }
                }
                if let bad = scales.firstIndex(where: { $0.isNaN }) { return .failure(batch.nonFiniteError(rule: name, suspect: bad)) }
                // v + (1/n) Σ c_i (Δ_i − v) = (1 − Σc/n) v + Σ (c_i/n) Δ_i
                let shares = (0..<n).map { scales[$0] * share[$0] }
                let keep = 1 - shares.reduce(0, +)
                coefficients = (0..<n).map { keep * coefficients[$0] + shares[$0] }
                v = Statistics.linearCombination(rows, coefficients: shares.map { Float($0) }, base: v.map { $0 * Float(keep) })
            }
            return .success((v, coefficients))
        }
        let (v, coefficients) = try result.get()
        try batch.requireFiniteResult(v, rule: name)
        return AggregationResult(aggregate: ParameterVector(v), weights: batch.weights(coefficients))
    }
}
