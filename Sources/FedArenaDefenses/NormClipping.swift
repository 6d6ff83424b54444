import FedArenaCore
import FedArenaNumerics

/// Static clipping: scale every update down to Euclidean norm at most `τ`, before a rule.
///
/// The clipping pre-aggregator of Allouah et al. 2023 ("Fixing by Mixing", AISTATS) and ByzFL's
/// `Clipping`; the same operation as ``NormBound`` without the averaging.
///
/// YAML (inside `pre`): `{kind: clip, tau: 5.0}`. One output per client, identities kept.
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
        _ updates: [ClientUpdate], context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> PreAggregation {
        let batch = try UpdateBatch(updates, rule: name)
        var outputs = batch.updates
        for index in outputs.indices {
            let norm = Statistics.squaredNorm(outputs[index].delta.values).squareRoot()
            if !norm.isFinite { throw batch.nonFiniteError(rule: name, suspect: index) }
            if norm > tau {
                let scale = Float(tau / norm)
                for j in outputs[index].delta.values.indices { outputs[index].delta.values[j] *= scale }
            }
        }
        return PreAggregation(oneToOne: outputs)
    }
}
