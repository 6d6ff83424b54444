import FedArenaCore
import FedArenaDefenses

/// Everything the coordinator decided and measured in one round: one line of `metrics.jsonl`.
public struct RoundRecord: Sendable {
    /// Why an update was refused.
    public struct Rejection: Sendable, Equatable {
        /// The client the message claimed to come from, if it could be decoded.
        public var client: ClientID?
        /// The sending peer.
        public var peer: String
        /// Why it was refused.
        public var reason: String
    }

    /// The 1-based round.
    public var round: Int
    /// Clients asked to train.
    public var selected: [ClientID]
    /// Clients whose updates were accepted, ascending.
    public var accepted: [ClientID]
    /// Selected clients whose update never arrived in time (dead or late process).
    public var dropped: [ClientID]
    /// Refused messages and updates.
    public var rejections: [Rejection]
    /// Updates that arrived after their round closed.
    public var lateUpdates: Int
    /// Whether the round's aggregate was applied to the global model.
    public var applied: Bool
    /// Why the round was not applied or ran a fallback rule, if so.
    public var degradedReason: String?
    /// The aggregation rule actually used.
    public var aggregator: String
    /// Per-client aggregation weights.
    public var weights: [ClientID: Double]
    /// The aggregator's note, if any.
    public var aggregatorNote: String?
    /// Test accuracy after the round.
    public var accuracy: Double
    /// Test loss after the round.
    public var loss: Double
    /// Test accuracy per class after the round.
    public var perClassAccuracy: [Double]
    /// Mean of the accepted clients' reported training losses.
    public var meanTrainLoss: Double
    /// Norm of the applied global step.
    public var stepNorm: Double
    /// Wall seconds from sending TRAIN to the evaluated model.
    public var seconds: Double
    /// Seconds spent waiting for updates.
    public var waitSeconds: Double
    /// Seconds spent aggregating.
    public var aggregateSeconds: Double
    /// The attack success rate after the round (targeted flip, backdoor), or `nil`.
    public var attackSuccessRate: Double?
    /// Malicious updates accepted this round (ground truth, for measurement only), or `nil`
    /// without an attack.
    public var maliciousAccepted: Int?
    /// The total aggregation weight malicious clients received, or `nil` without an attack.
    public var maliciousWeight: Double?
    /// The SHA-256 of the global model after the round.
    public var modelSHA256: String = ""
    /// What the detectors decided, when the scenario has detectors.
    public var detection: DetectionRoundRecord? = nil
}

/// One round of detection: every client's fused score, the decisions with reasons, and the
/// rates against the true roles.
public struct DetectionRoundRecord: Sendable {
    /// The detectors' report.
    public var report: DetectionReport
    /// TP/FP/TN/FN and AUC of the round against the true roles.
    public var metrics: DetectionMetrics.Round
}
