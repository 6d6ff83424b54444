import FedArenaNumerics
import Foundation

/// Test metrics of a model on a labelled set: mean cross-entropy, accuracy, per-class accuracy,
/// the confusion counts and every prediction (for attack success rates).
public struct Evaluation: Sendable, Equatable {
    /// The number of samples.
    public private(set) var count: Int
    /// The summed cross-entropy `Σ (logsumexp(z) − z_y)`.
    public private(set) var lossSum: Double
    /// The number of correct predictions.
    public private(set) var correct: Int
    /// The number of classes.
    public let classCount: Int
    /// Confusion counts, row-major `classCount x classCount`: `confusion[t * classCount + p]` is the
    /// number of samples of true class `t` predicted as `p`.
    public private(set) var confusion: [Int]
    /// The predicted class (arg-max logit, first on ties) of every sample, in order.
    public private(set) var predictions: [Int32]

    /// An empty evaluation to which chunks are added.
    init(classCount: Int, expectedCount: Int) {
        count = 0
        lossSum = 0
        correct = 0
        self.classCount = classCount
        confusion = [Int](repeating: 0, count: classCount * classCount)
        predictions = []
        predictions.reserveCapacity(expectedCount)
    }

    /// Computes the metrics from logits the caller already has.
    /// - Parameters:
    ///   - logits: `labels.count x classCount` values, row-major.
    ///   - labels: the true classes, in `0..<classCount`.
    ///   - classCount: the number of classes.
    /// - Throws: ``ModelError`` when the shapes disagree, a label is out of range, or there are no samples.
    public init(logits: [Float], labels: [Int32], classCount: Int) throws(ModelError) {
        guard classCount > 0, logits.count == labels.count * classCount else {
            throw ModelError(
                .featureCountMismatch, "\(logits.count) logits are not \(labels.count) rows of \(classCount) classes")
        }
        guard !labels.isEmpty else { throw ModelError(.emptyDataset, "cannot evaluate on no samples") }
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= classCount }) {
            throw ModelError(.labelOutOfRange, "label \(bad) is outside 0..<\(classCount)")
        }
        self.init(classCount: classCount, expectedCount: labels.count)
        logits.withUnsafeBufferPointer { z in labels.withUnsafeBufferPointer { y in add(logits: z, labels: y) } }
    }

    /// Adds a chunk of rows.
    /// - Parameters:
    ///   - logits: `labels.count x classCount` values.
    ///   - labels: the true classes.
    mutating func add(logits: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>) {
        let classes = classCount
        for row in 0..<labels.count {
            let z = UnsafeBufferPointer(rebasing: logits[(row * classes)..<((row + 1) * classes)])
            let predicted = VectorMath.argmax(z)
            let maximum = z[predicted]
            var sum: Float = 0
            for j in 0..<classes { sum += Foundation.exp(z[j] - maximum) }
            let label = Int(labels[row])
            lossSum += Double(Foundation.log(sum) - (z[label] - maximum))
            if predicted == label { correct += 1 }
            confusion[label * classes + predicted] += 1
            predictions.append(Int32(predicted))
        }
        count += labels.count
    }

    /// The mean cross-entropy.
    public var loss: Double { count == 0 ? .nan : lossSum / Double(count) }

    /// The share of correct predictions.
    public var accuracy: Double { count == 0 ? .nan : Double(correct) / Double(count) }

    /// The accuracy on each true class, or `nil` for a class with no samples.
    public var perClassAccuracy: [Double?] {
        (0..<classCount).map { t in
            let row = confusion[(t * classCount)..<((t + 1) * classCount)]
            let total = row.reduce(0, +)
            return total == 0 ? nil : Double(confusion[t * classCount + t]) / Double(total)
        }
    }

    /// The samples of true class `trueClass` predicted as `predicted`.
    /// - Parameters:
    ///   - trueClass: the label.
    ///   - predicted: the prediction.
    /// - Returns: the confusion count.
    public func confusionCount(trueClass: Int, predicted: Int) -> Int {
        confusion[trueClass * classCount + predicted]
    }
}
