/// The receiver operating characteristic of suspicion scores against true roles (Fawcett 2006,
/// "An introduction to ROC analysis"): one point per distinct score threshold, from (0, 0) to
/// (1, 1), and the area under it.
public struct ReportROC: Sendable, Equatable {
    /// A point: the false- and true-positive rates of flagging every score ≥ a threshold.
    public struct Point: Sendable, Equatable {
        /// False-positive rate.
        public var fpr: Double
        /// True-positive rate.
        public var tpr: Double
    }

    /// The curve, starting at (0, 0) and ending at (1, 1); tied scores make one diagonal step.
    public var points: [Point]
    /// The area under the curve by the trapezoid rule (ties count one half, as in the
    /// Mann-Whitney statistic).
    public var auc: Double
    /// Positive (malicious) and negative (honest) samples.
    public var positives: Int
    /// Negative samples.
    public var negatives: Int

    /// Builds the curve.
    /// - Parameter samples: (score, is malicious) pairs; non-finite scores are ignored.
    /// - Returns: `nil` unless there is at least one positive and one negative sample.
    public init?(_ samples: [(score: Double, positive: Bool)]) {
        let usable = samples.filter { $0.score.isFinite }
        let positives = usable.filter(\.positive).count
        let negatives = usable.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let sorted = usable.sorted { $0.score > $1.score }
        var points = [Point(fpr: 0, tpr: 0)]
        var truePositives = 0
        var falsePositives = 0
        var area = 0.0
        var index = 0
        while index < sorted.count {
            let score = sorted[index].score
            while index < sorted.count, sorted[index].score == score {
                if sorted[index].positive { truePositives += 1 } else { falsePositives += 1 }
                index += 1
            }
            let point = Point(fpr: Double(falsePositives) / Double(negatives), tpr: Double(truePositives) / Double(positives))
            let previous = points[points.count - 1]
            area += (point.fpr - previous.fpr) * (point.tpr + previous.tpr) / 2
            points.append(point)
        }
        self.points = points
        self.auc = area
        self.positives = positives
        self.negatives = negatives
    }
}
