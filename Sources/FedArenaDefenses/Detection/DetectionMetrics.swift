import FedArenaCore

/// Detection quality against ground-truth roles, per round and accumulated over a run.
///
/// A client is *positive* when malicious. Per round: TP/FP/TN/FN of the flagged set, precision
/// `TP/(TP+FP)`, recall (TPR) `TP/(TP+FN)`, FPR `FP/(FP+TN)` (`nil` when undefined), and the ROC
/// AUC of the suspicion scores: the Mann-Whitney probability that a random malicious client
/// outscores a random honest one, ties counted 1/2 (Hanley and McNeil 1982).
///
/// ```swift
/// var metrics = DetectionMetrics()
/// let round = metrics.record(round: t, scores: scores, flagged: flagged, malicious: attackers)
/// metrics.summary.tpr
/// ```
public struct DetectionMetrics: Sendable, Equatable, Codable {
    /// The metrics of one round.
    public struct Round: Sendable, Equatable, Codable {
        /// The round.
        public var round: Int
        /// Flagged malicious clients.
        public var truePositives: Int
        /// Flagged honest clients.
        public var falsePositives: Int
        /// Accepted honest clients.
        public var trueNegatives: Int
        /// Accepted malicious clients.
        public var falseNegatives: Int
        /// `TP / (TP + FP)`, `nil` when nothing was flagged.
        public var precision: Double? { ratio(truePositives, truePositives + falsePositives) }
        /// `TP / (TP + FN)`, `nil` without malicious clients.
        public var recall: Double? { ratio(truePositives, truePositives + falseNegatives) }
        /// `FP / (FP + TN)`, `nil` without honest clients.
        public var falsePositiveRate: Double? { ratio(falsePositives, falsePositives + trueNegatives) }
        /// The ROC AUC of the round's scores, `nil` without both kinds of client.
        public var auc: Double?
        /// How many clients were flagged.
        public var flagged: Int { truePositives + falsePositives }
    }

    /// The run so far.
    public struct Summary: Sendable, Equatable {
        /// Pooled `TP / (TP + FN)` over all rounds.
        public var tpr: Double?
        /// Pooled `FP / (FP + TN)`.
        public var fpr: Double?
        /// Pooled `TP / (TP + FP)`.
        public var precision: Double?
        /// The AUC of all scores of all rounds pooled.
        public var auc: Double?
        /// Flagged clients per recorded round, in order.
        public var flaggedByRound: [Int]
        /// Per malicious client: how many of its rounds passed until its first flag (1 = flagged
        /// in its first malicious round), `nil` when never flagged.
        public var roundsToFirstDetection: [ClientID: Int?]
    }

    /// The recorded rounds, in order.
    public private(set) var rounds: [Round] = []
    private var positiveScores: [Double] = []
    private var negativeScores: [Double] = []
    private var maliciousRounds: [ClientID: Int] = [:]
    private var detectedAfter: [ClientID: Int] = [:]

    /// An empty accumulator.
    public init() {}

    /// Records one round.
    /// - Parameters:
    ///   - round: the round number.
    ///   - scores: the (fused) suspicion of every client of the round.
    ///   - flagged: the clients the decision excluded or down-weighted.
    ///   - malicious: the ground-truth attackers (may include clients absent this round).
    /// - Returns: the round's metrics.
    @discardableResult
    public mutating func record(round: Int, scores: [ClientID: Double], flagged: Set<ClientID>, malicious: Set<ClientID>) -> Round {
        var result = Round(round: round, truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0, auc: nil)
        var positives = [Double]()
        var negatives = [Double]()
        for client in scores.keys.sorted() {
            let score = scores[client]!
            let isFlagged = flagged.contains(client)
            if malicious.contains(client) {
                positives.append(score)
                if isFlagged { result.truePositives += 1 } else { result.falseNegatives += 1 }
                maliciousRounds[client, default: 0] += 1
                if isFlagged, detectedAfter[client] == nil { detectedAfter[client] = maliciousRounds[client] }
            } else {
                negatives.append(score)
                if isFlagged { result.falsePositives += 1 } else { result.trueNegatives += 1 }
            }
        }
        result.auc = Self.rocAUC(positives: positives, negatives: negatives)
        positiveScores += positives
        negativeScores += negatives
        rounds.append(result)
        return result
    }

    /// The accumulated summary.
    public var summary: Summary {
        let tp = rounds.reduce(0) { $0 + $1.truePositives }
        let fp = rounds.reduce(0) { $0 + $1.falsePositives }
        let tn = rounds.reduce(0) { $0 + $1.trueNegatives }
        let fn = rounds.reduce(0) { $0 + $1.falseNegatives }
        var first = [ClientID: Int?]()
        for client in maliciousRounds.keys { first[client] = detectedAfter[client] }
        return Summary(
            tpr: ratio(tp, tp + fn), fpr: ratio(fp, fp + tn), precision: ratio(tp, tp + fp),
            auc: Self.rocAUC(positives: positiveScores, negatives: negativeScores),
            flaggedByRound: rounds.map(\.flagged), roundsToFirstDetection: first)
    }

    /// The Mann-Whitney AUC `P(s⁺ > s⁻) + ½ P(s⁺ = s⁻)`, from average ranks; `nil` when either
    /// side is empty. NaN scores count as the lowest.
    public static func rocAUC(positives: [Double], negatives: [Double]) -> Double? {
        guard !positives.isEmpty, !negatives.isEmpty else { return nil }
        let all = (positives.map { ($0.isNaN ? -Double.infinity : $0, true) } + negatives.map { ($0.isNaN ? -Double.infinity : $0, false) })
            .sorted { $0.0 < $1.0 }
        var rankSum = 0.0
        var i = 0
        while i < all.count {
            var j = i
            while j + 1 < all.count, all[j + 1].0 == all[i].0 { j += 1 }
            let averageRank = Double(i + j) / 2 + 1
            for k in i...j where all[k].1 { rankSum += averageRank }
            i = j + 1
        }
        let p = Double(positives.count)
        let n = Double(negatives.count)
        return (rankSum - p * (p + 1) / 2) / (p * n)
    }
}

private func ratio(_ numerator: Int, _ denominator: Int) -> Double? {
    denominator == 0 ? nil : Double(numerator) / Double(denominator)
}
