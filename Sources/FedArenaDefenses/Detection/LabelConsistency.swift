import FedArenaCore
import FedArenaModels
import FedArenaNumerics
import Foundation

/// `label-consistency`: do the labels of a client's revealed (with `training-audit`: opened and
/// verified) training samples agree with what a classifier trained on the coordinator's root set
/// predicts? Flipped labels (Tolpegin et al. 2020, "Data Poisoning Attacks Against Federated
/// Learning Systems", ESORICS) make the given labels improbable.
///
/// A softmax regression (`epochs` of SGD at `lr`, batch 32, zero start) is trained on the root
/// set. Its per-class null distribution of the per-sample cross-entropy `ℓ = −log p(y | x)` comes
/// from `folds`-fold cross-validation on the root set (out-of-fold losses: mean `μ_c`, variance
/// `σ²_c` of class `c`, floored at 0.01; a class with fewer than 2 out-of-fold samples uses the
/// pooled values). A client with `n_c` samples of class `c` has the statistic
/// `z = Σ_i (ℓ_i − μ_{y_i}) / √(Σ_c n_c σ²_c + Σ_c n_c² σ²_c / m_c)`, where `m_c` is the class's
/// root count: the second term is the uncertainty of the estimated `μ_c` (about 50 root samples a
/// class), which dominates for a client with hundreds of samples of one class. `z` is then
/// roughly standard normal for real data labelled correctly, whatever its class mix, and its score `1 / (1 + exp(−(z − z_center) / z_width))`. A client with no samples scores 0.
///
/// The classifier is trained on the folds in fixed order (shuffles from `seed` and the fold),
/// so scores depend only on the root set and the samples.
///
/// YAML: `{kind: label-consistency, samples_per_client: 32, epochs: 20, lr: 0.1, folds: 5,
/// z_center: 3, z_width: 1}` (`samples_per_client` is what clients reveal without `training-audit`).
public struct LabelConsistency: Detector {
    /// Samples each client reveals when there is no training audit.
    public var samplesPerClient: Int
    /// Epochs of the root-set classifier.
    public var epochs: Int
    /// Its learning rate.
    public var learningRate: Double
    /// Cross-validation folds for the null distribution.
    public var folds: Int
    /// The z at which the score is 0.5.
    public var zCenter: Double
    /// The logistic width of the score.
    public var zWidth: Double

    /// Creates the detector.
    /// - Throws: ``DetectionError`` for values out of range.
    public init(samplesPerClient: Int = 32, epochs: Int = 20, learningRate: Double = 0.1, folds: Int = 5, zCenter: Double = 3, zWidth: Double = 1) throws(DetectionError) {
        guard samplesPerClient > 0 else { throw DetectionError("label-consistency needs samples_per_client > 0, got \(samplesPerClient)") }
        guard epochs > 0 else { throw DetectionError("label-consistency needs epochs > 0, got \(epochs)") }
        guard learningRate.isFinite, learningRate > 0 else { throw DetectionError("label-consistency needs lr > 0, got \(learningRate)") }
        guard folds >= 2 else { throw DetectionError("label-consistency needs folds >= 2, got \(folds)") }
        guard zCenter.isFinite, zWidth.isFinite, zWidth > 0 else { throw DetectionError("label-consistency needs a finite z_center and z_width > 0") }
        self.samplesPerClient = samplesPerClient
        self.epochs = epochs
        self.learningRate = learningRate
        self.folds = folds
        self.zCenter = zCenter
        self.zWidth = zWidth
    }

    /// `label-consistency`.
    public var name: String { "label-consistency" }

    /// Needs revealed samples (the opened batches under `training-audit`) and the root set.
    public var requirements: DetectorRequirements { DetectorRequirements(revealedSamples: samplesPerClient) }

    /// The stream tag of the classifier's shuffles.
    static let streamTag: UInt64 = 0x1AB7

    /// Scores each client's revealed samples.
    /// - Throws: ``DetectionError`` without a root set of at least `2 · folds` samples.
    public func detect(_ updates: [ClientUpdate], context: DetectionContext, using rng: inout some RandomNumberGenerator) throws(DetectionError) -> DetectionOutput {
        let null = try reference(rootSet: context.rootSet)
        var suspicions = [ClientID: Suspicion]()
        for update in updates {
            guard let samples = context.revealedSamples[update.client], samples.count > 0 else {
                suspicions[update.client] = Suspicion(score: 0, reason: "revealed no samples")
                continue
            }
            guard samples.featureCount == context.rootSet.featureCount, Statistics.allFinite(samples.features),
                samples.labels.allSatisfy({ $0 >= 0 && Int($0) < context.rootSet.classCount })
            else {
                suspicions[update.client] = Suspicion(score: 1, reason: "revealed samples of the wrong shape, labels or values")
                continue
            }
            suspicions[update.client] = null.judge(samples, center: zCenter, width: zWidth)
        }
        return DetectionOutput(suspicions: suspicions)
    }

    /// The root-set classifier and its per-class null distribution of the cross-entropy.
    /// - Parameter rootSet: the coordinator's real, correctly labelled samples.
    /// - Returns: the fitted reference.
    /// - Throws: ``DetectionError`` when the root set is too small or the model cannot be built.
    public func reference(rootSet: LabeledSamples) throws(DetectionError) -> Reference {
        guard rootSet.count >= 2 * folds else {
            throw DetectionError("label-consistency needs a root set of at least \(2 * folds) samples (dataset.root_samples), got \(rootSet.count)")
        }
        let classes = rootSet.classCount
        var losses = [[Double]](repeating: [], count: classes)
        for fold in 0..<folds {
            let train = rootSet.subset((0..<rootSet.count).filter { $0 % folds != fold })
            let held = rootSet.subset((0..<rootSet.count).filter { $0 % folds == fold })
            let classifier = try Classifier.train(on: train, epochs: epochs, learningRate: learningRate, stream: UInt64(fold))
            for (index, loss) in classifier.losses(held).enumerated() { losses[Int(held.labels[index])].append(loss) }
        }
        let classifier = try Classifier.train(on: rootSet, epochs: epochs, learningRate: learningRate, stream: UInt64(folds))
        return Reference(classifier: classifier, null: ClassConditionalNull(held: losses, varianceFloor: 0.01))
    }

    /// The fitted classifier and its null distribution.
    public struct Reference: Sendable {
        let classifier: Classifier
        let null: ClassConditionalNull
        /// `μ_c`, the out-of-fold mean cross-entropy of class `c`.
        public var mean: [Double] { null.mean }
        /// `σ²_c`.
        public var variance: [Double] { null.variance }
        /// `m_c`, the out-of-fold losses behind `μ_c`.
        public var counts: [Int] { null.counts }

        /// The suspicion of one client's samples.
        func judge(_ samples: LabeledSamples, center: Double, width: Double) -> Suspicion {
            let losses = classifier.losses(samples)
            let predicted = classifier.predictions(samples)
            let z = null.z(losses, labels: samples.labels)
            let disagree = zip(predicted, samples.labels).filter { $0 != $1 }.count
            let meanLoss = losses.reduce(0, +) / Double(losses.count)
            return Suspicion(
                score: RobustZ.suspicion(z, center: center, width: width),
                reason: "labels vs the root-set classifier: z \(ReasonFormat.number(z, 3)), \(disagree) of \(samples.count) disagree, mean loss \(ReasonFormat.number(meanLoss, 3))",
                features: ["z": z, "disagree": Double(disagree), "mean_loss": meanLoss, "samples": Double(samples.count)])
        }

        /// `z` of a sample set (for tests and reports).
        public func z(_ samples: LabeledSamples) -> Double {
            judge(samples, center: 3, width: 1).features["z"] ?? .nan
        }
    }

    /// A softmax regression trained on labelled samples.
    struct Classifier: Sendable {
        let model: MLP
        let parameters: ParameterVector

        static func train(on samples: LabeledSamples, epochs: Int, learningRate: Double, stream: UInt64) throws(DetectionError) -> Classifier {
            do {
                let model = try MLP(inputs: samples.featureCount, classes: samples.classCount)
                let trainer = LocalTrainer(
                    model: model, configuration: try LocalTrainer.Configuration(epochs: epochs, batchSize: 32, optimizer: SGD(learningRate: Float(learningRate))))
                let start = ParameterVector([Float](repeating: 0, count: model.parameterCount))
                let result = try trainer.train(from: start, on: samples, seed: LabelConsistency.streamTag, stream: [stream])
                return Classifier(model: model, parameters: result.parameters)
            } catch {
                throw DetectionError("label-consistency cannot train its root-set classifier: \(error)")
            }
        }

        /// `−log p(y_i | x_i)` per sample, from a numerically stable log-softmax in float64.
        func losses(_ samples: LabeledSamples) -> [Double] {
            let logits = self.logits(samples)
            let classes = model.classCount
            return (0..<samples.count).map { row in
                let values = logits[(row * classes)..<((row + 1) * classes)].map(Double.init)
                let top = values.max() ?? 0
                let logSum = top + log(values.reduce(0) { $0 + exp($1 - top) })
                return logSum - values[Int(samples.labels[row])]
            }
        }

        func predictions(_ samples: LabeledSamples) -> [Int32] {
            let logits = self.logits(samples)
            let classes = model.classCount
            return (0..<samples.count).map { row in
                var best = 0
                for c in 1..<classes where logits[row * classes + c] > logits[row * classes + best] { best = c }
                return Int32(best)
            }
        }

        private func logits(_ samples: LabeledSamples) -> [Float] {
            let chunk = 256
            let workspace = model.makeWorkspace(batchCapacity: chunk)
            let classes = model.classCount
            var result = [Float](repeating: 0, count: samples.count * classes)
            parameters.values.withUnsafeBufferPointer { p in
                samples.features.withUnsafeBufferPointer { x in
                    result.withUnsafeMutableBufferPointer { out in
                        var start = 0
                        while start < samples.count {
                            let rows = min(chunk, samples.count - start)
                            model.logits(
                                parameters: p,
                                inputs: UnsafeBufferPointer(rebasing: x[(start * samples.featureCount)..<((start + rows) * samples.featureCount)]),
                                rows: rows, into: UnsafeMutableBufferPointer(rebasing: out[(start * classes)..<((start + rows) * classes)]),
                                workspace: workspace)
                            start += rows
                        }
                    }
                }
            }
            return result
        }
    }
}
