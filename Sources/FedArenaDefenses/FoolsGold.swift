import FedArenaCore
import FedArenaNumerics
import Foundation

/// FoolsGold: down-weight clients whose accumulated update histories are too similar to each
/// other (sybils pushing one goal), using pairwise cosine similarity with pardoning and a
/// logit squashing of the learning rates.
///
/// Fung, Yoon and Beschastnikh 2020, "The Limitations of Federated Learning in Sybil
/// Settings", RAID. Per round, with `H_i` the sum of client `i`'s updates so far (this one
/// included):
/// 1. `cs_ij = cos(H_i, H_j)` for `i ≠ j` (0 on the diagonal), `v_i = max_j cs_ij`;
/// 2. pardoning: `cs_ij ← cs_ij · v_i / v_j` when `v_i < v_j`;
/// 3. `α_i = 1 − max_j cs_ij`, clipped to [0, 1], divided by `max α`, `α = 1 → 0.99`;
/// 4. logit: `α_i ← κ (ln(α_i / (1 − α_i)) + 0.5)`, clipped to [0, 1] (`κ` = `confidence`).
/// The aggregate is `Σ α_i Δ_i / Σ α_i` (zero, with a note, when every `α_i` is 0).
///
/// History lives in ``AggregatorMemory`` under `foolsgold.history.<client index>`, returned
/// in ``AggregationResult/memory`` for the runtime to hand back next round. The paper's
/// optional restriction to "indicative features" is not applied: whole updates are used.
///
/// YAML: `{kind: foolsgold, confidence: 1.0}`. Weights: the normalised `α_i`. Cosines come
/// from ``PairwiseDistances`` (`1 − cos` without cancellation).
///
/// Trust weights: `w_i` multiplies `α_i` (0 excludes the update and leaves its history as it
/// was).
public struct FoolsGold: Aggregator {
    /// The logit confidence `κ > 0`.
    public var confidence: Double

    /// Creates the rule.
    /// - Parameter confidence: `κ`, default 1.
    /// - Throws: `.invalidConfiguration` when `confidence <= 0`.
    public init(confidence: Double = 1) throws(AggregationError) {
        guard confidence.isFinite, confidence > 0 else {
            throw AggregationError(.invalidConfiguration, "foolsgold needs confidence > 0, got \(confidence)")
        }
        self.confidence = confidence
    }

    /// `foolsgold`.
    public var name: String { "foolsgold" }

    /// The memory key of a client's history.
    public static func historyKey(_ client: ClientID) -> String { "foolsgold.history.\(client.rawValue)" }

    /// Updates the histories, scores them and takes the `α`-weighted mean.
    /// - Throws: `.tooFewUpdates`, `.dimensionMismatch` (also for a stored history of another
    ///   dimension), `.nonFinite`.
    public func aggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult {
        let batch = try UpdateBatch(updates, rule: name)
        try batch.requireFinite(rule: name)
        var memory = context.memory
        var histories = UpdateMatrix(dimension: batch.dimension, round: updates.round, reservingCapacity: batch.count)
        for index in 0..<batch.count {
            let client = batch.client(index)
            let key = Self.historyKey(client)
            var history = batch.vector(index).values
            if let old = memory.vectors[key] {
                try batch.requireCompatible(old, named: "history of \(client)", rule: name)
                VectorMath.add(old.values, into: &history)
            }
            memory.vectors[key] = ParameterVector(history)
            try histories.append(client: client, sampleCount: 1, row: history)
        }
        let similarity = histories.withRows { PairwiseDistances($0, products: .cosines) }
        let trust = batch.trust
        let alpha = zip(Self.learningRates(similarity, confidence: confidence), trust).map { $0 * $1 }
        let total = alpha.reduce(0, +)
        if total == 0 {
            return AggregationResult(
                aggregate: ParameterVector(zeros: batch.dimension), weights: batch.weights(alpha),
                note: "every client scored 0 (all histories alike); returned the zero update", memory: memory)
        }
        let normalised = alpha.map { $0 / total }
        let mean = batch.withRows { Statistics.linearCombination($0, coefficients: normalised.map { Float($0) }) }
        try batch.requireFiniteResult(mean, rule: name)
        return AggregationResult(aggregate: ParameterVector(mean), weights: batch.weights(normalised), memory: memory)
    }

    /// Steps 1-4 of the type's description.
    static func learningRates(_ gram: PairwiseDistances, confidence: Double) -> [Double] {
        let n = gram.count
        guard n > 1 else { return [Double](repeating: 1, count: n) }
        var cs = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for j in 0..<n where j != i { cs[i][j] = gram.cosine(i, j) }
        }
        let maxima = cs.map { $0.max()! }
        for i in 0..<n {
            for j in 0..<n where j != i && maxima[i] < maxima[j] && maxima[j] != 0 {
                cs[i][j] *= maxima[i] / maxima[j]
            }
        }
        var alpha = cs.map { 1 - $0.max()! }.map { min(1, max(0, $0)) }
        let largest = alpha.max()!
        guard largest > 0 else { return [Double](repeating: 0, count: n) }
        alpha = alpha.map { $0 / largest }.map { $0 == 1 ? 0.99 : $0 }
        return alpha.map { value in
            let logit = confidence * (log(value / (1 - value)) + 0.5)
            return logit.isNaN ? 0 : min(1, max(0, logit))
        }
    }
}
