import FedArenaCore
import FedArenaNumerics
import Foundation

/// Offline synthetic-data detection for a whole candidate *set* against a real reference set:
/// what `fedarena detect --reference real.npy --reference-labels y.npy --candidate cand.npy
/// --candidate-labels yc.npy` prints.
///
/// Three tests, each giving a p-value under "the candidate is drawn like the reference"
/// (score `1 − p`):
/// - `sketch-mmd` (Gretton et al. 2012 on random Fourier features, Rahimi and Recht 2007): per
///   class, `T_c = ‖μ_cand − μ_ref‖²` of the mean embeddings against `null_draws` random
///   halvings of the reference class, rescaled to the two sample sizes; the max-statistic
///   `max_c T_c / E_c` over classes (`E_c` the null mean) against the max of the nulls.
/// - `c2st` (Lopez-Paz and Oquab 2017): a class-conditional logistic classifier on random
///   features learns real vs candidate on half of each set (balanced), and is tested on the
///   other half; under the null its accuracy is Binomial(n, ½)/n, one-sided normal p-value.
/// - `spread` (model collapse: Shumailov et al. 2024, Nature): per class, the pixel-space
///   variance `tr Cov` ratio candidate/reference (sample-weighted geometric mean over classes;
///   null from reference halvings, rescaled by `√((1/n + 1/m)/(1/h + 1/(m − h)))`, two-sided),
///   and the tail mass: the share of candidate samples farther from their reference class mean
///   than the reference's 90th-percentile leave-one-out distance (about 10% under the null;
///   two-sided two-sample proportion test, since the cut-off is estimated too). The test's p-value is `min(1, 2 · min(p_variance, p_tail))`.
/// Verdict: `synthetic` when some test has `p ≤ α / 3` (Bonferroni over the three tests), i.e.
/// score `≥ 1 − α/3`; `real` otherwise. "Synthetic" means "not distributed like the
/// reference": a real set from another distribution is flagged too.
public enum OfflineDetection {
    /// The options.
    public struct Configuration: Sendable, Equatable {
        /// Random features `D`.
        public var dimension: Int = 256
        /// Their bandwidth `σ`.
        public var bandwidth: Double = DataSketchBuilder.defaultBandwidth
        /// Reference halvings per class for the nulls.
        public var nullDraws: Int = 500
        /// The family-wise significance level.
        public var alpha: Double = 0.05
        /// Samples per class kept from each set (a seeded subsample; bounds the cost).
        public var maxPerClass: Int = 1000
        /// Gradient steps of the C2ST classifier.
        public var iterations: Int = 300
        /// Its L2 penalty.
        public var l2: Double = 1e-3

        /// The defaults.
        public init() {}
    }

    /// One test's outcome.
    public struct Result: Sendable, Equatable {
        /// `sketch-mmd`, `c2st` or `spread`.
        public var detector: String
        /// `1 − p`.
        public var score: Double
        /// The p-value.
        public var pValue: Double
        /// What was measured.
        public var reason: String
    }

    /// The decision.
    public enum Verdict: String, Sendable, Equatable {
        /// Not distributed like the reference.
        case synthetic
        /// Consistent with the reference.
        case real
    }

    /// Everything `fedarena detect` prints.
    public struct Report: Sendable, Equatable, CustomStringConvertible {
        /// One entry per test.
        public var results: [Result]
        /// The verdict.
        public var verdict: Verdict
        /// The score threshold `1 − α/3`.
        public var threshold: Double
        /// The family-wise level α.
        public var alpha: Double

        public var description: String {
            var lines = results.map { r in
                "\(r.detector.padding(toLength: 11, withPad: " ", startingAt: 0)) score \(String(format: "%.4f", r.score))  p \(ReasonFormat.number(r.pValue, 3))  \(r.reason)"
            }
            lines.append("verdict: \(verdict.rawValue) (a score >= \(String(format: "%.4f", threshold)) flags, i.e. p <= alpha/3 with alpha = \(alpha))")
            return lines.joined(separator: "\n")
        }
    }

    /// Tests `candidate` against `reference`.
    /// - Throws: ``DetectionError`` for empty sets, different feature counts, or no class with
    ///   enough samples on both sides.
    public static func evaluate(reference: LabeledSamples, candidate: LabeledSamples, seed: UInt64, configuration: Configuration = Configuration()) throws(DetectionError) -> Report {
        guard reference.count > 0, candidate.count > 0 else { throw DetectionError("detect: the reference and candidate sets must not be empty") }
        guard reference.featureCount == candidate.featureCount else {
            throw DetectionError("detect: reference samples have \(reference.featureCount) features, candidates \(candidate.featureCount)")
        }
        guard configuration.alpha > 0, configuration.alpha < 1, configuration.nullDraws >= 10, configuration.maxPerClass >= 4 else {
            throw DetectionError("detect: alpha must be in (0, 1), null_draws >= 10, max_per_class >= 4")
        }
        var rng = SeededGenerator(seed: seed, stream: [0x0FF1])
        let classCount = max(reference.classCount, candidate.classCount)
        let ref = cap(relabel(reference, classCount), configuration.maxPerClass, &rng)
        let cand = cap(relabel(candidate, classCount), configuration.maxPerClass, &rng)
        let shared = (0..<classCount).filter { c in ref.classHistogram[c] >= 4 && cand.classHistogram[c] >= 2 }
        guard !shared.isEmpty else { throw DetectionError("detect: no class has >= 4 reference and >= 2 candidate samples") }
        let map = RandomFourierFeatures(seed: seed, inputDimension: ref.featureCount, dimension: configuration.dimension, bandwidth: configuration.bandwidth)
        let results = [
            mmd(ref, cand, shared: shared, map: map, configuration: configuration, &rng),
            c2st(ref, cand, map: map, configuration: configuration, &rng),
            spread(ref, cand, shared: shared, configuration: configuration, &rng),
        ]
        let threshold = 1 - configuration.alpha / 3
        let verdict: Verdict = results.contains { $0.pValue <= configuration.alpha / 3 } ? .synthetic : .real
        return Report(results: results, verdict: verdict, threshold: threshold, alpha: configuration.alpha)
    }

    // MARK: Tests

    static func mmd(_ ref: LabeledSamples, _ cand: LabeledSamples, shared: [Int], map: RandomFourierFeatures, configuration: Configuration, _ rng: inout SeededGenerator) -> Result {
        let reference = KernelEmbedding(samples: ref, map: map)
        let (candidateMeans, histogram) = DataSketchBuilder.classMeans(cand, map: map)
        let d = map.dimension
        let draws = configuration.nullDraws
        var nullMax = [Double](repeating: -Double.infinity, count: draws)
        var worst = (ratio: -Double.infinity, c: shared[0], value: 0.0)
        for c in shared {
            guard let split = reference.splitDifferences(c, draws: draws, using: &rng) else { continue }
            let observed = VectorMath.squaredDistance(Array(candidateMeans[(c * d)..<((c + 1) * d)]), Array(reference.mean(c)))
            let m = Double(reference.count(c))
            let h = Double(split.half)
            let scale = (1 / Double(histogram[c]) + 1 / m) / (1 / h + 1 / (m - h))
            let null = (0..<draws).map { scale * VectorMath.sumOfSquares(Array(split.differences[($0 * d)..<(($0 + 1) * d)])) }
            let expected = max(null.reduce(0, +) / Double(draws), 1e-12)
            for b in 0..<draws { nullMax[b] = max(nullMax[b], null[b] / expected) }
            if observed / expected > worst.ratio { worst = (observed / expected, c, observed) }
        }
        let p = Double(1 + nullMax.filter { $0 >= worst.ratio }.count) / Double(draws + 1)
        return Result(
            detector: "sketch-mmd", score: 1 - p, pValue: p,
            reason: "largest at class \(worst.c): MMD² \(ReasonFormat.number(worst.value)) = \(ReasonFormat.number(worst.ratio, 3))x its null mean (max over \(shared.count) classes)")
    }

    static func c2st(_ ref: LabeledSamples, _ cand: LabeledSamples, map: RandomFourierFeatures, configuration: Configuration, _ rng: inout SeededGenerator) -> Result {
        let size = min(ref.count, cand.count)
        let refIndices = Array(rng.permutation(ref.count).prefix(size))
        let candIndices = Array(rng.permutation(cand.count).prefix(size))
        let trainSize = size / 2
        let trainRef = ref.subset(refIndices.prefix(trainSize))
        let trainCand = cand.subset(candIndices.prefix(trainSize))
        let testRef = ref.subset(refIndices.dropFirst(trainSize))
        let testCand = cand.subset(candIndices.dropFirst(trainSize))
        guard trainSize >= 2, testRef.count > 0 else {
            return Result(detector: "c2st", score: 0, pValue: 1, reason: "too few samples for a held-out split (\(size) per side)")
        }
        let probe = ClassConditionalProbe(
            real: trainRef, synthetic: trainCand, map: map, l2: configuration.l2, iterations: configuration.iterations, minClassCount: 5)
        let correct = probe.probabilities(testRef).filter { $0 < 0.5 }.count + probe.probabilities(testCand).filter { $0 >= 0.5 }.count
        let n = Double(testRef.count + testCand.count)
        let accuracy = Double(correct) / n
        let z = (accuracy - 0.5) / (0.25 / n).squareRoot()
        let p = upperTail(z)
        return Result(
            detector: "c2st", score: 1 - p, pValue: p,
            reason: "held-out accuracy \(ReasonFormat.number(accuracy, 3)) on \(Int(n)) samples (chance 0.5)")
    }

    static func spread(_ ref: LabeledSamples, _ cand: LabeledSamples, shared: [Int], configuration: Configuration, _ rng: inout SeededGenerator) -> Result {
        let f = ref.featureCount
        var logRatio = (sum: 0.0, weight: 0.0)
        var nullSums = [Double](repeating: 0, count: configuration.nullDraws)
        var tailCount = 0
        var tailTotal = 0
        var tailExpected = 0.0
        var referenceTotal = 0
        for c in shared {
            let r = ref.subset(ref.labels.indices.filter { Int(ref.labels[$0]) == c })
            let k = cand.subset(cand.labels.indices.filter { Int(cand.labels[$0]) == c })
            let m = r.count
            let n = k.count
            let refMean = columnMean(r)
            let refVariance = meanSquaredDistance(r, to: refMean)
            let candVariance = meanSquaredDistance(k, to: columnMean(k))
            guard refVariance > 0 else { continue }
            let weight = Double(n)
            logRatio.sum += weight * log(max(candVariance, 1e-12) / refVariance)
            logRatio.weight += weight
            // Null: log variance ratio of reference halves, rescaled to sizes (n, m).
            let half = m / 2
            let scale = ((1 / Double(n) + 1 / Double(m)) / (1 / Double(half) + 1 / Double(m - half))).squareRoot()
            let norms = (0..<m).map { VectorMath.sumOfSquares(Array(r.features[($0 * f)..<(($0 + 1) * f)])) }
            var coefficients = [Float](repeating: 0, count: configuration.nullDraws * m)
            var memberships = [[Bool]]()
            for b in 0..<configuration.nullDraws {
                let order = rng.permutation(m)
                var inHalf = [Bool](repeating: false, count: m)
                for position in 0..<half { inHalf[order[position]] = true }
                for i in 0..<m { coefficients[b * m + i] = inHalf[i] ? Float(1.0 / Double(half)) : 0 }
                memberships.append(inHalf)
            }
            let halfMeans = BLAS.matmul(coefficients, r.features, m: configuration.nullDraws, k: m, n: f)
            let total = r.features.withUnsafeBufferPointer { x in (0..<f).map { j in (0..<m).reduce(0.0) { $0 + Double(x[$1 * f + j]) } } }
            for b in 0..<configuration.nullDraws {
                var halfNorm = 0.0
                var restNorm = 0.0
                for i in 0..<m { if memberships[b][i] { halfNorm += norms[i] } else { restNorm += norms[i] } }
                var halfMeanSquared = 0.0
                var restMeanSquared = 0.0
                for j in 0..<f {
                    let a = Double(halfMeans[b * f + j])
                    let rest = (total[j] - a * Double(half)) / Double(m - half)
                    halfMeanSquared += a * a
                    restMeanSquared += rest * rest
                }
                let vHalf = halfNorm / Double(half) - halfMeanSquared
                let vRest = restNorm / Double(m - half) - restMeanSquared
                if vHalf > 0, vRest > 0 { nullSums[b] += weight * scale * log(vHalf / vRest) }
            }
            // Tail mass beyond the reference's 90th percentile leave-one-out distance
            // (‖x_i − x̄_{−i}‖ = ‖x_i − x̄‖ · m/(m − 1) exactly).
            let loo = Double(m) / Double(m - 1)
            let refDistances = (0..<m).map { VectorMath.squaredDistance(Array(r.features[($0 * f)..<(($0 + 1) * f)]), refMean) * loo * loo }.sorted()
            let cutoff = refDistances[min(m - 1, Int((0.9 * Double(m)).rounded(.up)) - 1)]
            tailExpected += Double(refDistances.filter { $0 > cutoff }.count) / Double(m) * Double(n)
            for i in 0..<n where VectorMath.squaredDistance(Array(k.features[(i * f)..<((i + 1) * f)]), refMean) > cutoff { tailCount += 1 }
            tailTotal += n
            referenceTotal += m
        }
        guard logRatio.weight > 0 else { return Result(detector: "spread", score: 0, pValue: 1, reason: "no class with reference variance") }
        let observed = logRatio.sum / logRatio.weight
        let nulls = nullSums.map { $0 / logRatio.weight }
        let extreme = nulls.filter { abs($0) >= abs(observed) }.count
        let pVariance = Double(extreme + 1) / Double(nulls.count + 1)
        // Two-sample proportion test: the cut-off is itself estimated from the reference.
        let tailShare = Double(tailCount) / Double(max(tailTotal, 1))
        let expectedShare = tailExpected / Double(max(tailTotal, 1))
        let tailVariance = expectedShare * (1 - expectedShare) * (1 / Double(max(tailTotal, 1)) + 1 / Double(max(referenceTotal, 1)))
        let zTail = (tailShare - expectedShare) / max(tailVariance.squareRoot(), 1e-12)
        let pTail = min(1, 2 * upperTail(abs(zTail)))
        let p = min(1, 2 * min(pVariance, pTail))
        return Result(
            detector: "spread", score: 1 - p, pValue: p,
            reason: "variance \(ReasonFormat.number(exp(observed), 3))x the reference's (p \(ReasonFormat.number(pVariance, 2))), tail mass \(ReasonFormat.number(100 * tailShare, 3))% vs \(ReasonFormat.number(100 * expectedShare, 3))% expected (p \(ReasonFormat.number(pTail, 2)))")
    }

    // MARK: Helpers

    /// `P(Z ≥ z)` for a standard normal `Z`.
    static func upperTail(_ z: Double) -> Double { NormalDistribution.upperTail(z) }

    static func relabel(_ samples: LabeledSamples, _ classCount: Int) -> LabeledSamples {
        LabeledSamples(features: samples.features, labels: samples.labels, featureCount: samples.featureCount, classCount: classCount)
    }

    /// At most `limit` samples per class, a seeded subsample in original order.
    static func cap(_ samples: LabeledSamples, _ limit: Int, _ rng: inout SeededGenerator) -> LabeledSamples {
        let histogram = samples.classHistogram
        guard histogram.contains(where: { $0 > limit }) else { return samples }
        var keep = [Int]()
        for c in 0..<samples.classCount {
            let members = samples.labels.indices.filter { Int(samples.labels[$0]) == c }
            if members.count <= limit { keep += members } else { keep += rng.sample(limit, from: members.count).map { members[$0] } }
        }
        return samples.subset(keep.sorted())
    }

    static func columnMean(_ samples: LabeledSamples) -> [Float] {
        let f = samples.featureCount
        var sum = [Double](repeating: 0, count: f)
        for i in 0..<samples.count { for j in 0..<f { sum[j] += Double(samples.features[i * f + j]) } }
        return sum.map { Float($0 / Double(max(samples.count, 1))) }
    }

    static func meanSquaredDistance(_ samples: LabeledSamples, to center: [Float]) -> Double {
        let f = samples.featureCount
        guard samples.count > 0 else { return 0 }
        return (0..<samples.count).reduce(0.0) { $0 + VectorMath.squaredDistance(Array(samples.features[($1 * f)..<(($1 + 1) * f)]), center) } / Double(samples.count)
    }
}
