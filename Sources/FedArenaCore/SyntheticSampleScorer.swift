/// A detector of synthetic *samples* that an adaptive attacker is handed as a value, so that
/// the arms race is explicit: the attacker keeps only the synthetic samples it scores as real.
///
/// ## Implementation requirements
/// - Deterministic for the same inputs.
/// - Returns one score in [0, 1] per candidate (higher = more likely synthetic).
public protocol SyntheticSampleScorer: Sendable {
    /// A short name for logs.
    var name: String { get }
    /// Scores every candidate against real reference samples.
    /// - Parameters:
    ///   - candidates: the samples to score.
    ///   - reference: real samples of the same feature count.
    /// - Returns: one score per candidate, in order.
    /// - Throws: ``DetectionError`` for samples it cannot score.
    func syntheticScores(_ candidates: LabeledSamples, reference: LabeledSamples) throws(DetectionError) -> [Double]
}
