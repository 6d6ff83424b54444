import FedArenaCore
import FedArenaNumerics

/// Geometric median by the smoothed Weiszfeld algorithm (Robust Federated Aggregation, RFA).
///
/// Pillutla, Kakade and Harchaoui 2022, "Robust Aggregation for Federated Learning", IEEE
/// Transactions on Signal Processing. Minimises `Σ_i α_i max(ν, ‖z − Δ_i‖)` with
/// `α_i ∝ n_i` (sample counts; equal with `weighted: false`) by
/// `z ← Σ_i β_i Δ_i / Σ_i β_i`, `β_i = α_i / max(ν, ‖z − Δ_i‖)`, starting from the weighted
/// mean (RFA) or zero (`start: zero`, ByzFL's choice), for at most `iterations` steps, stopping
/// early when the objective improves by less than `tolerance` times its value.
///
/// YAML: `{kind: geomed, nu: 1.0e-6, iterations: 100, tolerance: 1.0e-5, weighted: true, start: mean}`.
/// Weights: the final normalised `β_i` (the coefficients of the last step).
///
/// Trust weights: `w_i` multiplies `α_i` (RFA's weights are exactly such per-update weights);
/// 0 excludes.
public struct GeometricMedian: Aggregator {
    /// The smoothing `ν > 0`.
    public var nu: Double
    /// The maximal number of Weiszfeld steps, `>= 1`.
    public var iterations: Int
    /// The relative objective improvement below which iteration stops (0: run all steps).
    public var tolerance: Double
    /// Whether `α_i` follows sample counts.
    public var weighted: Bool
    /// Whether to start from zero instead of the weighted mean.
    public var startFromZero: Bool

    /// Creates the rule.
    /// - Parameters:
    ///   - nu: the smoothing, `> 0` (default `1e-6`).
    ///   - iterations: the maximal number of steps, `>= 1` (default 100).
    ///   - tolerance: the relative stopping threshold, `>= 0` (default `1e-5`).
    ///   - weighted: weight by sample count (default).
    ///   - startFromZero: start at zero rather than at the weighted mean.
    /// - Throws: `.invalidConfiguration` for `nu <= 0`, `iterations < 1` or `tolerance < 0`.
    public init(nu: Double = 1e-6, iterations: Int = 100, tolerance: Double = 1e-5, weighted: Bool = true, startFromZero: Bool = false) throws(AggregationError) {
        guard nu.isFinite, nu > 0 else { throw AggregationError(.invalidConfiguration, "geomed needs nu > 0, got nu = \(nu)") }
        guard iterations >= 1 else { throw AggregationError(.invalidConfiguration, "geomed needs iterations >= 1, got \(iterations)") }
        guard tolerance.isFinite, tolerance >= 0 else { throw AggregationError(.invalidConfiguration, "geomed needs tolerance >= 0, got \(tolerance)") }
        self.nu = nu
        self.iterations = iterations
        self.tolerance = tolerance
        self.weighted = weighted
        self.startFromZero = startFromZero
    }

    /// `geomed`.
    public var name: String { "geomed" }

    /// Runs the smoothed Weiszfeld iterations.
    /// - Throws: `.tooFewUpdates`, `.dimensionMismatch`, `.nonFinite`.
    public func aggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult {
        let batch = try UpdateBatch(updates, rule: name)
        let n = batch.count
        let trust = batch.trust
        let counts = batch.sampleCounts
        var alpha = (0..<n).map { trust[$0] * (weighted ? Double(max(0, counts[$0])) : 1.0) }
        if alpha.allSatisfy({ $0 == 0 }) { alpha = trust }
        alpha = UpdateBatch.normalised(alpha)!
        let result: Result<(z: [Float], beta: [Double], steps: Int), AggregationError> = batch.withRows { rows in
            var z = startFromZero ? [Float](repeating: 0, count: rows.columns) : Statistics.linearCombination(rows, coefficients: alpha.map { Float($0) })
            var beta = alpha
            var previousObjective = Double.infinity
            var steps = 0
            for _ in 0..<iterations {
                var objective = 0.0
                var distances = [Double](repeating: 0, count: n)
                z.withUnsafeBufferPointer { zp in
                    for i in 0..<n { distances[i] = Statistics.squaredDistance(rows[i], zp.baseAddress!, count: rows.columns).squareRoot() }
                }
                for i in 0..<n {
                    if !distances[i].isFinite { return .failure(batch.nonFiniteError(rule: name, suspect: i)) }
                    objective += alpha[i] * max(nu, distances[i])
                }
                if tolerance > 0, previousObjective.isFinite, previousObjective - objective <= tolerance * previousObjective {
                    break
                }
                previousObjective = objective
                beta = (0..<n).map { alpha[$0] / max(nu, distances[$0]) }
                let total = beta.reduce(0, +)
                beta = beta.map { $0 / total }
                z = Statistics.linearCombination(rows, coefficients: beta.map { Float($0) })
                steps += 1
            }
            return .success((z, beta, steps))
        }
        let (z, beta, steps) = try result.get()
        try batch.requireFiniteResult(z, rule: name)
        let note = steps == iterations || tolerance == 0 ? nil : "converged after \(steps) Weiszfeld steps"
        return AggregationResult(aggregate: ParameterVector(z), weights: batch.weights(beta), note: note)
    }
}
