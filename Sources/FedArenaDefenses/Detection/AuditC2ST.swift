import FedArenaCore
import FedArenaNumerics
import Foundation

/// Opt-in audit by a classifier two-sample test (Lopez-Paz and Oquab 2017, "Revisiting
/// Classifier Two-Sample Tests", ICLR): clients reveal `k` of their training samples, and a
/// real-vs-synthetic classifier judges them.
///
/// Per class `c`, an L2-regularised logistic regression on random Fourier features (Rahimi and
/// Recht 2007; `dimension`, `bandwidth`, seeded from the round seed) learns the coordinator's
/// root samples of class `c` (real, 0) against reference synthetic samples of class `c`
/// (1, made by the runtime with the reference generators — Defenses never import Synthesis),
/// class-balanced. A class with fewer than `min_class_count` samples on either side uses one
/// pooled classifier over all classes. A client's score is the mean predicted synthetic
/// probability of its revealed samples (each judged by its label's classifier); a client with
/// no samples scores 0 with a reason saying so.
///
/// **Privacy cost.** Unlike the sketches, this reveals raw training samples to the coordinator:
/// `k` per audited client per audit round, `k · rounds` over a run, with no formal guarantee
/// (no DP noise; the samples are exactly what the client trained on). Enable it only where
/// clients consent to sample audits (e.g. cross-silo, or after a sketch-based flag), keep `k`
/// small, and prefer auditing flagged clients only.
///
/// YAML: `{kind: audit-c2st, samples_per_client: 16, dimension: 256, bandwidth: 8, l2: 0.001,
/// iterations: 300, min_class_count: 5}` (`samples_per_client` is what the runtime asks for).
public struct AuditC2ST: Detector {
    /// `k`, the samples the runtime should request per client.
    public var samplesPerClient: Int
    /// Random features of the classifier.
    public var dimension: Int
    /// Their bandwidth.
    public var bandwidth: Double
    /// The L2 penalty.
    public var l2: Double
    /// Gradient steps.
    public var iterations: Int
    /// The fewest samples per side for a class-specific classifier.
    public var minClassCount: Int

    /// Creates the audit.
    /// - Throws: ``DetectionError`` for values out of range.
    public init(
        samplesPerClient: Int = 16, dimension: Int = 256, bandwidth: Double = DataSketchBuilder.defaultBandwidth, l2: Double = 1e-3,
        iterations: Int = 300, minClassCount: Int = 5
    ) throws(DetectionError) {
        guard samplesPerClient > 0 else { throw DetectionError("audit-c2st needs samples_per_client > 0, got \(samplesPerClient)") }
        guard dimension > 0, bandwidth.isFinite, bandwidth > 0 else { throw DetectionError("audit-c2st needs dimension > 0 and bandwidth > 0") }
        guard l2.isFinite, l2 >= 0 else { throw DetectionError("audit-c2st needs l2 >= 0, got \(l2)") }
        guard iterations > 0 else { throw DetectionError("audit-c2st needs iterations > 0, got \(iterations)") }
        guard minClassCount >= 1 else { throw DetectionError("audit-c2st needs min_class_count >= 1, got \(minClassCount)") }
        self.samplesPerClient = samplesPerClient
        self.dimension = dimension
        self.bandwidth = bandwidth
        self.l2 = l2
        self.iterations = iterations
        self.minClassCount = minClassCount
    }

    /// `audit-c2st`.
    public var name: String { "audit-c2st" }

    /// The stream tag of the classifier's feature map.
    static let streamTag: UInt64 = 0xC257

    /// Needs `samples_per_client` revealed samples per client and the root set.
    public var requirements: DetectorRequirements { DetectorRequirements(revealedSamples: samplesPerClient) }

    /// Scores the samples each client revealed (``DetectionContext/revealedSamples``) against
    /// the root set and ``DetectionContext/referenceSynthetic``.
    public func detect(_ updates: [ClientUpdate], context: DetectionContext, using rng: inout some RandomNumberGenerator) throws(DetectionError) -> DetectionOutput {
        guard let referenceSynthetic = context.referenceSynthetic else {
            throw DetectionError("audit-c2st needs the coordinator's reference synthetic samples (DetectionContext.referenceSynthetic)")
        }
        var samples = [ClientID: LabeledSamples]()
        for update in updates { samples[update.client] = context.revealedSamples[update.client] }
        var suspicions = try audit(samples: samples, rootSet: context.rootSet, referenceSynthetic: referenceSynthetic, seed: context.roundSeed)
        for update in updates where suspicions[update.client] == nil {
            suspicions[update.client] = Suspicion(score: 0, reason: "revealed no audit samples")
        }
        return DetectionOutput(suspicions: suspicions)
    }

    /// Scores each client's revealed samples.
    /// - Parameters:
    ///   - samples: the revealed samples by client.
    ///   - rootSet: the coordinator's real data.
    ///   - referenceSynthetic: samples from the reference generators, labelled.
    ///   - seed: the seed of the classifier's feature map.
    /// - Throws: ``DetectionError`` for empty or mismatched sets.
    public func audit(samples: [ClientID: LabeledSamples], rootSet: LabeledSamples, referenceSynthetic: LabeledSamples, seed: UInt64 = 0) throws(DetectionError) -> [ClientID: Suspicion] {
        guard rootSet.count > 0, referenceSynthetic.count > 0 else { throw DetectionError("audit-c2st needs a non-empty root set and reference synthetic set") }
        guard referenceSynthetic.featureCount == rootSet.featureCount else {
            throw DetectionError("audit-c2st: reference synthetic samples have \(referenceSynthetic.featureCount) features, the root set \(rootSet.featureCount)")
        }
        let map = RandomFourierFeatures(seed: seed ^ Self.streamTag, inputDimension: rootSet.featureCount, dimension: dimension, bandwidth: bandwidth)
        let classifier = ClassConditionalProbe(real: rootSet, synthetic: referenceSynthetic, map: map, l2: l2, iterations: iterations, minClassCount: minClassCount)
        var result = [ClientID: Suspicion]()
        for (client, set) in samples {
            guard set.count > 0 else { result[client] = Suspicion(score: 0, reason: "revealed no audit samples"); continue }
            guard set.featureCount == rootSet.featureCount, Statistics.allFinite(set.features) else {
                result[client] = Suspicion(score: 1, reason: "revealed samples of the wrong shape or with non-finite values")
                continue
            }
            let p = classifier.probabilities(set)
            let mean = p.reduce(0, +) / Double(p.count)
            let confident = p.filter { $0 > 0.5 }.count
            result[client] = Suspicion(
                score: min(1, max(0, mean)),
                reason: "mean synthetic probability \(ReasonFormat.number(mean, 2)) over \(p.count) revealed samples (\(confident) judged synthetic)",
                features: ["mean_synthetic_probability": mean, "judged_synthetic": Double(confident), "samples": Double(p.count)])
        }
        return result
    }
}

/// One probe per class plus a pooled fallback, on shared random features.
struct ClassConditionalProbe {
    let map: RandomFourierFeatures
    let perClass: [LogisticProbe?]
    let pooled: LogisticProbe

    init(real: LabeledSamples, synthetic: LabeledSamples, map: RandomFourierFeatures, l2: Double, iterations: Int, minClassCount: Int) {
        self.map = map
        let realFeatures = map.transform(real.features, rows: real.count)
        let syntheticFeatures = map.transform(synthetic.features, rows: synthetic.count)
        let d = map.dimension
        pooled = LogisticProbe.train(
            features: realFeatures + syntheticFeatures,
            targets: [Float](repeating: 0, count: real.count) + [Float](repeating: 1, count: synthetic.count),
            columns: d, l2: l2, iterations: iterations)
        let classes = max(real.classCount, synthetic.classCount)
        perClass = (0..<classes).map { c in
            let r = real.labels.indices.filter { Int(real.labels[$0]) == c }
            let s = synthetic.labels.indices.filter { Int(synthetic.labels[$0]) == c }
            guard r.count >= minClassCount, s.count >= minClassCount else { return nil }
            var rows = [Float]()
            rows.reserveCapacity((r.count + s.count) * d)
            for i in r { rows += realFeatures[(i * d)..<((i + 1) * d)] }
            for i in s { rows += syntheticFeatures[(i * d)..<((i + 1) * d)] }
            return LogisticProbe.train(
                features: rows, targets: [Float](repeating: 0, count: r.count) + [Float](repeating: 1, count: s.count),
                columns: d, l2: l2, iterations: iterations)
        }
    }

    /// `P(synthetic | x, y)` for every sample.
    func probabilities(_ samples: LabeledSamples) -> [Double] {
        let features = map.transform(samples.features, rows: samples.count)
        let d = map.dimension
        let pooledP = pooled.probabilities(features, rows: samples.count)
        return (0..<samples.count).map { i in
            let label = Int(samples.labels[i])
            guard label >= 0, label < perClass.count, let probe = perClass[label] else { return pooledP[i] }
            return probe.probabilities(Array(features[(i * d)..<((i + 1) * d)]), rows: 1)[0]
        }
    }
}
