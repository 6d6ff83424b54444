import FedArenaCore

/// The attack-success-rate (ASR) metric of DESIGN.md, as pure functions the runtime calls after
/// each round's evaluation.
///
/// - Backdoor: the share of **non-target-class** test samples, trigger stamped, classified as the
///   target.
/// - Targeted flip: the share of **source-class** test samples classified as the target.
/// - Untargeted: no ASR here; report the accuracy drop against the same scenario with the
///   attack off (same seed).
///
/// ```swift
/// if let (samples, target) = AttackSuccess.evaluationSet(for: plan.objective, testSet: test) {
///     let asr = AttackSuccess.rate(predictions: model.predict(samples), target: target)
/// }
/// ```
public enum AttackSuccess {
    /// The test samples the ASR is measured on and the label that counts as success, or `nil`
    /// for an untargeted objective.
    /// - Parameters:
    ///   - objective: the plan's ``AttackPlan/objective``.
    ///   - testSet: the clean test set.
    /// - Returns: for a backdoor, the non-target samples with the trigger stamped (labels kept);
    ///   for a targeted flip, the source-class samples; and the target.
    /// - Precondition: for a backdoor, the test features are `imageSide²` long.
    public static func evaluationSet(for objective: AttackObjective, testSet: LabeledSamples) -> (samples: LabeledSamples, target: Int)? {
        switch objective {
        case .untargeted:
            return nil
        case .targetedFlip(let source, let target):
            return (testSet.subset(testSet.labels.indices.filter { Int(testSet.labels[$0]) == source }), target)
        case .backdoor(let trigger, let target):
            precondition(testSet.featureCount == trigger.imageSide * trigger.imageSide, "backdoor ASR: test features are not \(trigger.imageSide)x\(trigger.imageSide) images")
            var samples = testSet.subset(testSet.labels.indices.filter { Int(testSet.labels[$0]) != target })
            trigger.stamp(&samples)
            return (samples, target)
        }
    }

    /// The share of `predictions` equal to `target`, or `nil` when there are none (write
    /// `null` in the summary).
    public static func rate(predictions: [Int32], target: Int) -> Double? {
        guard !predictions.isEmpty else { return nil }
        let hits = predictions.reduce(0) { $0 + (Int($1) == target ? 1 : 0) }
        return Double(hits) / Double(predictions.count)
    }

    /// The ASR of a model given by `predict` (features row-major, row count → labels), or `nil`
    /// for an untargeted objective or an empty evaluation set.
    public static func rate(
        objective: AttackObjective, testSet: LabeledSamples, predict: ([Float], Int) throws -> [Int32]
    ) rethrows -> Double? {
        guard let (samples, target) = evaluationSet(for: objective, testSet: testSet) else { return nil }
        return rate(predictions: try predict(samples.features, samples.count), target: target)
    }
}
