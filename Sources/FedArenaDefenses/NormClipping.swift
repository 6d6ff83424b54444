import FedArenaCore
import FedArenaNumerics

/// Static clipping: scale every update down to Euclidean norm at most `τ`, before a rule.
///
/// The clipping pre-aggregator of Allouah et al. 2023 ("Fixing by Mixing", AISTATS) and ByzFL's
/// `Clipping`; the same operation as ``NormBound`` without the averaging.
///
/// YAML (inside `pre`): `{kind: clip, tau: 5.0}`. One output per client, identities, sample
/// counts and trust weights kept (rows of weight 0 are dropped).
public struct NormClipping: PreAggregator {
    /// The norm bound `τ > 0`.
    public var tau: Double

    /// Creates the stage.
    /// - Parameter tau: `> 0`.
    /// - Throws: `.invalidConfiguration` when `tau <= 0`.
    public init(tau: Double) throws(AggregationError) {
        guard tau.isFinite, tau > 0 else { throw AggregationError(.invalidConfiguration, "clip needs tau > 0, got tau = \(tau)") }
        self.tau = tau
    }

    /// `clip`.
    public var name: String { "clip" }

    /// Clips each update.
    /// - Throws: `.tooFewUpdates`, `.dimensionMismatch`, `.nonFinite`.
    public func preAggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> PreAggregation {
        let batch = try UpdateBatch(updates, rule: name)
        let norms = batch.withRows { Statistics.squaredNorms($0).map { $0.squareRoot() } }
        if let bad = norms.firstIndex(where: { !$0.isFinite }) { throw batch.nonFiniteError(rule: name, suspect: bad) }
        var outputs = UpdateMatrix(dimension: batch.dimension, round: updates.round, reservingCapacity: batch.count)
        for index in 0..<batch.count {
            var values = batch.vector(index).values
            if norms[index] > tau { VectorMath.scale(&values, by: Float(tau / norms[index])) }
            try outputs.append(client: batch.client(index), sampleCount: batch.sampleCounts[index], weight: batch.trust[index], row: values)
        }
        return PreAggregation(oneToOne: outputs)
    }
}
