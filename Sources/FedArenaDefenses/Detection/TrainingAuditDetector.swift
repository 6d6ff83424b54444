import FedArenaCore

/// `training-audit`: verified local training (opt-in). Clients commit to every local SGD step
/// with a SHA-256 Merkle root sent in the UPDATE; after it arrives the coordinator opens the last
/// step, the largest-norm steps and random steps, and recomputes each one exactly (the
/// runtime's `TrainingAuditVerifier`; Proof-of-Learning, Jia et al. 2021, IEEE S&P). This
/// detector turns the runtime's verdicts (``DetectionContext/trainingAudits``) into scores: 1
/// with the failure as reason (`wrong batch`, `wrong weights`, `proof does not verify`,
/// `step mismatch`, `update mismatch`, `no opening`, ...), 0 for a verified client. The opened
/// batches, now proven to be what the update was trained on, reach the sample detectors
/// (`audit-c2st`, `label-consistency`) as ``DetectionContext/revealedSamples``.
///
/// **Detection probability.** A client that poisons a fraction `p` of its `S` steps has at least
/// one poisoned step among `k = random_steps` uniformly opened steps with probability
/// `1 − (1 − p)^k` per round (sampling without replacement only raises it); a single fabricated
/// large jump is opened for certain by the largest-norm rule.
///
/// **Privacy cost.** Opened steps leave the client: `k_total · B` raw training samples with
/// their labels and `k_total` copies of the intermediate weights per round.
///
/// YAML: `{kind: training-audit, random_steps: 4, largest_steps: 2}`. Needs plain SGD
/// (`training.momentum: 0`, `training.weight_decay: 0`) and a model without dropout.
public struct TrainingAuditDetector: Detector {
    /// Steps opened uniformly at random.
    public var randomSteps: Int
    /// Steps of the largest committed norms opened.
    public var largestSteps: Int

    /// Creates the detector.
    /// - Parameters:
    ///   - randomSteps: uniformly drawn steps, ≥ 0.
    ///   - largestSteps: largest-norm steps, ≥ 0.
    /// - Throws: ``DetectionError`` for negative counts or more than 63 steps in all (the
    ///   wire's limit is 64 opened steps with the last).
    public init(randomSteps: Int = 4, largestSteps: Int = 2) throws(DetectionError) {
        guard randomSteps >= 0, largestSteps >= 0, randomSteps + largestSteps <= 63 else {
            throw DetectionError("training-audit needs random_steps >= 0, largest_steps >= 0 and at most 63 in all, got \(randomSteps) and \(largestSteps)")
        }
        self.randomSteps = randomSteps
        self.largestSteps = largestSteps
    }

    /// `training-audit`.
    public var name: String { "training-audit" }

    /// Asks the runtime for the audit.
    public var requirements: DetectorRequirements {
        DetectorRequirements(trainingAudit: TrainingAuditRequest(randomSteps: randomSteps, largestSteps: largestSteps))
    }

    /// Scores each client by its audit verdict.
    /// - Throws: ``DetectionError`` when the runtime audited nobody (offline detection has no openings).
    public func detect(_ updates: [ClientUpdate], context: DetectionContext, using rng: inout some RandomNumberGenerator) throws(DetectionError) -> DetectionOutput {
        guard updates.isEmpty || !context.trainingAudits.isEmpty else {
            throw DetectionError("training-audit needs the runtime's audit verdicts (DetectionContext.trainingAudits); none were given")
        }
        var suspicions = [ClientID: Suspicion]()
        for update in updates {
            guard let verdict = context.trainingAudits[update.client] else {
                suspicions[update.client] = Suspicion(score: 1, reason: "training audit: no verdict (the client was not audited)", features: ["failed": 1])
                continue
            }
            if let failure = verdict.failure {
                suspicions[update.client] = Suspicion(
                    score: 1, reason: "training audit failed (\(failure.rawValue)): \(verdict.message)",
                    features: ["failed": 1, "opened_steps": Double(verdict.openedSteps.count)])
            } else {
                suspicions[update.client] = Suspicion(
                    score: 0, reason: "training audit passed: \(verdict.message)",
                    features: ["failed": 0, "opened_steps": Double(verdict.openedSteps.count)])
            }
        }
        return DetectionOutput(suspicions: suspicions)
    }
}
