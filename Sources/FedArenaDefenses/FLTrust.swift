import FedArenaCore
import FedArenaNumerics

/// FLTrust: trust each update by the ReLU of its cosine similarity with the server's own
/// update on a clean root set, rescale every update to the root update's norm, and take the
/// trust-weighted mean.
///
/// Cao, Fang, Liu and Gong 2021, "FLTrust: Byzantine-robust Federated Learning via Trust
/// Bootstrapping", NDSS. `TS_i = ReLU(cos(Δ_i, Δ_root))`,
/// `Δ = Σ_i TS_i · (‖Δ_root‖/‖Δ_i‖) Δ_i / Σ_i TS_i`.
///
/// YAML: `{kind: fltrust}`. Needs ``RoundContext/referenceUpdate`` (``requiresReferenceUpdate``
/// is `true`). When every trust score is 0 the result is the zero update, with a note.
/// Weights: the normalised trust scores.
///
/// Trust weights: `w_i` multiplies the trust score, `TS_i · w_i` (0 excludes). The rescaling
/// to `‖Δ_root‖` is unchanged, which is why shrinking the vector (the old `downweight`) had no
/// effect here.
public struct FLTrust: Aggregator {
    /// Creates the rule (it has no parameters).
    public init() {}

    /// `fltrust`.
    public var name: String { "fltrust" }

    /// FLTrust needs the root update.
    public var requiresReferenceUpdate: Bool { true }

    /// Scores, rescales and averages.
    /// - Throws: `.missingReference` without a reference update, `.dimensionMismatch`,
    ///   `.nonFinite`, `.tooFewUpdates`.
    public func aggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult {
        let batch = try UpdateBatch(updates, rule: name)
        guard let reference = context.referenceUpdate else {
            throw AggregationError(.missingReference, "fltrust needs the server's root update (RoundContext.referenceUpdate)")
        }
        try batch.requireCompatible(reference, named: "root update", rule: name)
        let n = batch.count
        let weights = batch.trust
        let result: Result<(vector: [Float], trust: [Double]), AggregationError> = batch.withRows { rows in
            reference.values.withUnsafeBufferPointer { rootBuffer in
                let root = rootBuffer.baseAddress!
                let rootNorm = Statistics.squaredNorm(root, count: rows.columns).squareRoot()
                var trust = [Double](repeating: 0, count: n)
                var scale = [Double](repeating: 0, count: n)
                for i in 0..<n {
                    let norm = Statistics.squaredNorm(rows[i], count: rows.columns).squareRoot()
                    if !norm.isFinite { return .failure(batch.nonFiniteError(rule: name, suspect: i)) }
                    guard norm > 0, rootNorm > 0 else { continue }
                    let cosine = Statistics.dot(rows[i], root, count: rows.columns) / (norm * rootNorm)
                    trust[i] = max(0, cosine) * weights[i]
                    scale[i] = rootNorm / norm
                }
                let total = trust.reduce(0, +)
                guard total > 0 else { return .success(([Float](repeating: 0, count: rows.columns), trust)) }
                let normalised = trust.map { $0 / total }
                let coefficients = (0..<n).map { Float(normalised[$0] * scale[$0]) }
                return .success((Statistics.linearCombination(rows, coefficients: coefficients), normalised))
            }
        }
        let (vector, trust) = try result.get()
        try batch.requireFiniteResult(vector, rule: name)
        let note = trust.allSatisfy({ $0 == 0 }) ? "every trust score is 0 (no update points along the root update); returned the zero update" : nil
        return AggregationResult(aggregate: ParameterVector(vector), weights: batch.weights(trust), note: note)
    }
}
