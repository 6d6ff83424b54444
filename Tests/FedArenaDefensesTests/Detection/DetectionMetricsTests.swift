import FedArenaCore
import FedArenaDefenses
import Testing

@Suite struct DetectionMetricsTests {
    @Test func aucOfHandMadeScores() {
        #expect(DetectionMetrics.rocAUC(positives: [0.9, 0.8], negatives: [0.1, 0.2, 0.3]) == 1)
        #expect(DetectionMetrics.rocAUC(positives: [0.1], negatives: [0.5, 0.6]) == 0)
        #expect(DetectionMetrics.rocAUC(positives: [0.5, 0.5], negatives: [0.5, 0.5, 0.5]) == 0.5)
        // One positive above both negatives, one tied with one and below the other: (2 + 0.5) / 4.
        #expect(DetectionMetrics.rocAUC(positives: [0.9, 0.4], negatives: [0.4, 0.6]) == 0.625)
        #expect(DetectionMetrics.rocAUC(positives: [], negatives: [0.1]) == nil)
    }

    @Test func roundsAccumulate() {
        var metrics = DetectionMetrics()
        let bad: Set<ClientID> = [ClientID(3), ClientID(4)]
        let scores1: [ClientID: Double] = [ClientID(0): 0.1, ClientID(1): 0.7, ClientID(2): 0.2, ClientID(3): 0.9, ClientID(4): 0.3]
        let r1 = metrics.record(round: 1, scores: scores1, flagged: [ClientID(1), ClientID(3)], malicious: bad)
        #expect(r1.truePositives == 1 && r1.falsePositives == 1 && r1.trueNegatives == 2 && r1.falseNegatives == 1)
        #expect(r1.precision == 0.5 && r1.recall == 0.5 && r1.falsePositiveRate == 1.0 / 3)
        #expect(r1.auc == 5.0 / 6)
        let scores2: [ClientID: Double] = [ClientID(0): 0.1, ClientID(3): 0.9, ClientID(4): 0.8]
        metrics.record(round: 2, scores: scores2, flagged: [ClientID(3), ClientID(4)], malicious: bad)
        let summary = metrics.summary
        #expect(summary.tpr == 3.0 / 4 && summary.fpr == 1.0 / 4 && summary.precision == 3.0 / 4)
        #expect(summary.flaggedByRound == [2, 2])
        #expect(summary.roundsToFirstDetection[ClientID(3)] == .some(1))
        #expect(summary.roundsToFirstDetection[ClientID(4)] == .some(2))
        #expect(summary.auc == 15.0 / 16)
    }

    @Test func neverDetectedIsNil() {
        var metrics = DetectionMetrics()
        metrics.record(round: 1, scores: [ClientID(0): 0.2, ClientID(1): 0.1], flagged: [], malicious: [ClientID(1)])
        #expect(metrics.summary.roundsToFirstDetection[ClientID(1)] == .some(nil))
        #expect(metrics.summary.precision == nil && metrics.summary.tpr == 0)
    }
}
