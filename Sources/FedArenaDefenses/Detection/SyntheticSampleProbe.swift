import FedArenaCore
import FedArenaNumerics

/// The sample-level detector FedArena hands to a stealthy attacker: a logistic classifier on
/// random Fourier features, trained to tell the attacker's real samples from its synthetic
/// ones (a classifier two-sample test, Lopez-Paz and Oquab 2017), whose probability of
/// "synthetic" scores each candidate.
public struct SyntheticSampleProbe: SyntheticSampleScorer {
    /// The feature dimension.
    public var dimension: Int
    /// The RBF bandwidth of the features.
    public var bandwidth: Double
    /// The seed of the features.
    public var seed: UInt64

    /// Creates the probe.
    public init(dimension: Int = 256, bandwidth: Double = DataSketchBuilder.defaultBandwidth, seed: UInt64 = 0) {
        self.dimension = dimension
        self.bandwidth = bandwidth
        self.seed = seed
    }

    public var name: String { "synthetic-sample-probe" }

    public func syntheticScores(_ candidates: LabeledSamples, reference: LabeledSamples) throws(DetectionError) -> [Double] {
        guard candidates.count > 0 else { return [] }
        guard reference.count > 0, reference.featureCount == candidates.featureCount else {
            throw DetectionError("synthetic-sample-probe needs real reference samples with \(candidates.featureCount) features")
        }
        let map = RandomFourierFeatures(seed: seed, inputDimension: candidates.featureCount, dimension: dimension, bandwidth: bandwidth)
        let real = map.transform(reference.features, rows: reference.count)
        let synthetic = map.transform(candidates.features, rows: candidates.count)
        let probe = LogisticProbe.train(
            features: real + synthetic,
            targets: [Float](repeating: 0, count: reference.count) + [Float](repeating: 1, count: candidates.count),
            columns: dimension, l2: 1e-3, iterations: 200)
        return probe.probabilities(synthetic, rows: candidates.count)
    }
}
