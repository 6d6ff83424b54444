import FedArenaModels
import Foundation
import Testing

@Suite struct EvaluationTests {
    @Test func metricsOfHandMadeLogits() throws {
        // Four samples, three classes; class 2 never occurs.
        let logits: [Float] = [
            2, 1, 0,  // true 0, predicted 0
            0, 3, 1,  // true 1, predicted 1
            5, 5, 0,  // true 1, predicted 0 (tie → first)
            0, 0, 0,  // true 0, predicted 0 (tie → first)
        ]
        let evaluation = try Evaluation(logits: logits, labels: [0, 1, 1, 0], classCount: 3)
        #expect(evaluation.count == 4)
        #expect(evaluation.predictions == [0, 1, 0, 0])
        #expect(evaluation.correct == 3)
        #expect(evaluation.accuracy == 0.75)
        #expect(evaluation.perClassAccuracy == [1.0, 0.5, nil])
        #expect(evaluation.confusion == [2, 0, 0, 1, 1, 0, 0, 0, 0])
        #expect(evaluation.confusionCount(trueClass: 1, predicted: 0) == 1)
        func ce(_ z: [Double], _ y: Int) -> Double { log(z.map { exp($0) }.reduce(0, +)) - z[y] }
        let expected = (ce([2, 1, 0], 0) + ce([0, 3, 1], 1) + ce([5, 5, 0], 1) + ce([0, 0, 0], 0)) / 4
        #expect(abs(evaluation.loss - expected) < 1e-6)
    }

    @Test func rejectsBadShapes() {
        #expect { try Evaluation(logits: [1, 2, 3], labels: [0, 1], classCount: 3) } throws: {
            ($0 as? ModelError)?.code == .featureCountMismatch
        }
        #expect { try Evaluation(logits: [], labels: [], classCount: 3) } throws: {
            ($0 as? ModelError)?.code == .emptyDataset
        }
        #expect { try Evaluation(logits: [1, 2], labels: [2], classCount: 2) } throws: {
            ($0 as? ModelError)?.code == .labelOutOfRange
        }
    }
}
