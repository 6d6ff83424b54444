import FedArenaReports
import Testing

@Suite struct ReportROCTests {
    @Test func pointsAndAreaOfASmallExampleWorkedByHand() throws {
        // Scores (label): 0.9 (+), 0.8 (-), 0.7 (+), 0.3 (-), 0.2 (-). Two positives, three negatives.
        // Thresholds give (FPR, TPR): (0,0), (0,1/2), (1/3,1/2), (1/3,1), (2/3,1), (1,1).
        // Area = 1/3 * 1/2 + 2/3 * 1 = 5/6 (the share of positive-negative pairs ranked right).
        let roc = try #require(ReportROC([(0.9, true), (0.8, false), (0.7, true), (0.3, false), (0.2, false)]))
        let third: Double = 1.0 / 3
        let expectedFPR: [Double] = [0, 0, third, third, 2 * third, 1]
        let expectedTPR: [Double] = [0, 0.5, 0.5, 1, 1, 1]
        #expect(roc.points.map(\.fpr) == expectedFPR)
        #expect(roc.points.map(\.tpr) == expectedTPR)
        #expect(abs(roc.auc - 5.0 / 6) < 1e-12)
        #expect(roc.positives == 2 && roc.negatives == 3)
    }

    @Test func tiesMakeOneDiagonalStepWorthOneHalf() throws {
        // Every score equal: one step from (0,0) to (1,1), area 1/2.
        let roc = try #require(ReportROC([(0.5, true), (0.5, false), (0.5, false)]))
        #expect(roc.points.count == 2)
        #expect(roc.auc == 0.5)
        #expect(ReportROC([(0.5, true), (0.9, true)]) == nil)
    }
}
