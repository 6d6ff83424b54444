import FedArenaCore
import FedArenaNumerics
import Foundation

/// Sketch MMD: compares each client's per-class kernel mean embeddings (its ``DataSketch``)
/// with the coordinator's root set, with the other clients', and looks for the loss of spread
/// and tails that synthetic (and recursively generated) data show.
///
/// Sources: the kernel two-sample test (Gretton et al. 2012, "A Kernel Two-Sample Test", JMLR),
/// here on random Fourier features (Rahimi and Recht 2007) so that
/// `‖μ_client − μ_root‖²` is a linear-time MMD² estimate; model collapse (Shumailov et al. 2024,
/// "AI models collapse when trained on recursively generated data", Nature) for the spread
/// and tail features.
///
/// Per client `i` and class `c` with `n_ic ≥ min_class_count` samples (its sketch's histogram)
/// and at least 4 root samples, `m_c`:
/// 1. **MMD vs root**: `T = ‖μ_ic − μ_root,c‖²`. Null: `null_draws` random halvings of the
///    root class give `δ_b = mean(half) − mean(rest)`; `‖δ_b‖²` is rescaled by
///    `(1/n_ic + 1/m_c) / (1/h + 1/(m_c − h))` (the variance of a difference of two independent
///    means) and, when the clients add ``SketchNoise``, the noise term
///    `2 √scale σ ‖δ_b‖ z₁ + σ² (D + √(2D) z₂)` is added (the same noise the client used).
///    Over the client's tested classes the statistic is the max-statistic
///    `M = max_c T_c / E_c` (`E_c` the mean of class `c`'s null draws), with null draws
///    `max_c null_{c,b} / E_c`, so `p = (1 + #{null_b ≥ M}) / (B + 1)` controls the family-wise
///    error over classes without Bonferroni's loss of attainable p (a single poisoned class
///    still stands out). Scored `−log₁₀ p / log₁₀(B + 1)` (1 at the smallest attainable p).
/// 2. **Deviation from the other clients**: `u_ic = ‖μ_ic − median_j μ_jc‖² / (V_root,c / n_ic + D σ²)`
///    (the distance to the coordinate-wise median of the clients' embeddings over its expected
///    size), averaged over the client's classes; robust z of `log u` across clients.
/// 3. **Spread (variance ratio)**: the within-class kernel variance `V = E‖φ − Eφ‖²` implied by
///    the sketch (`k̄ = (n ‖μ‖² − s̄) / (n − 1)` after removing the noise's `D σ²`,
///    `V = s̄ − k̄`) over the root's; collapsed data has `V_client / V_root < 1`. Robust z of
///    `−log ratio` (sample-weighted over classes) across clients.
/// 4. **Tail mass**: the root samples of each class whose leave-one-out root density is in the
///    lowest `tail_fraction` are its tails; the client's kernel density there is
///    `⟨μ_ic, φ(x_j)⟩`. `tail_ratio = (client's share of density on the tails) / (root's share)`,
///    below 1 when the client lost the tails. Robust z of `−log ratio` across clients.
/// The score is the largest of the four (2-4 through ``RobustZ/suspicion(_:center:width:)``);
/// the reason names it. What a sketch cannot carry: per-sample spread beyond the mean
/// embedding; a second-moment field (the class mean of `φ(x) ⊙ φ(x)`, or a histogram of
/// `⟨φ(x), μ_root,c⟩`) would make 3 and 4 per-client tests rather than cross-client z-scores.
///
/// A client without a sketch scores `missing_score`; a malformed sketch (wrong dimension, class
/// count, or non-finite values) scores 1. YAML: `{kind: sketch-mmd, dimension: 256, bandwidth: 8,
/// null_draws: 200, min_class_count: 5, tail_fraction: 0.2, missing_score: 0.5,
/// noise_epsilon: ..., noise_delta: ..., z_center: 3, z_width: 1}` (dimension, bandwidth and
/// noise must match what clients are told).
public struct SketchMMD: Detector {
    /// Needs every client's sketch with this detector's parameters, and the root set.
    public var requirements: DetectorRequirements {
        DetectorRequirements(
            sketch: DetectorRequirements.Sketch(
                dimension: dimension, bandwidth: bandwidth, noise: noise.map { (epsilon: $0.epsilon, delta: $0.delta) }))
    }

    /// `D`.
    public var dimension: Int
    /// `σ`.
    public var bandwidth: Double
    /// `B`, the root halvings per class.
    public var nullDraws: Int
    /// The fewest samples of a class a client must have for the class to be tested.
    public var minClassCount: Int
    /// The share of each root class treated as its tails.
    public var tailFraction: Double
    /// The score of a client that sent no sketch.
    public var missingScore: Double
    /// The noise clients add, or `nil`.
    public var noise: SketchNoise?
    /// The `z` mapped to 0.5.
    public var zCenter: Double
    /// The logistic width.
    public var zWidth: Double

    /// Creates the detector.
    /// - Throws: ``DetectionError`` for values out of range.
    public init(
        dimension: Int = DataSketchBuilder.defaultDimension, bandwidth: Double = DataSketchBuilder.defaultBandwidth, nullDraws: Int = 200,
        minClassCount: Int = 5, tailFraction: Double = 0.2, missingScore: Double = 0.5, noise: SketchNoise? = nil,
        zCenter: Double = 3, zWidth: Double = 1
    ) throws(DetectionError) {
        guard dimension > 0 else { throw DetectionError("sketch-mmd needs dimension > 0, got \(dimension)") }
        guard bandwidth.isFinite, bandwidth > 0 else { throw DetectionError("sketch-mmd needs bandwidth > 0, got \(bandwidth)") }
        guard nullDraws >= 10 else { throw DetectionError("sketch-mmd needs null_draws >= 10, got \(nullDraws)") }
        guard minClassCount >= 2 else { throw DetectionError("sketch-mmd needs min_class_count >= 2, got \(minClassCount)") }
        guard tailFraction > 0, tailFraction < 1 else { throw DetectionError("sketch-mmd needs 0 < tail_fraction < 1, got \(tailFraction)") }
        guard missingScore >= 0, missingScore <= 1 else { throw DetectionError("sketch-mmd needs missing_score in [0, 1], got \(missingScore)") }
        guard zWidth.isFinite, zWidth > 0, zCenter.isFinite else { throw DetectionError("sketch-mmd needs z_width > 0, got \(zWidth)") }
        self.dimension = dimension
        self.bandwidth = bandwidth
        self.nullDraws = nullDraws
        self.minClassCount = minClassCount
        self.tailFraction = tailFraction
        self.missingScore = missingScore
        self.noise = noise
        self.zCenter = zCenter
        self.zWidth = zWidth
    }

    /// `sketch-mmd`.
    public var name: String { "sketch-mmd" }

    /// The per-client statistics (public for tests and the ledger).
    public struct Statistics: Sendable, Equatable {
        /// The p-value of the max-statistic MMD test over classes (1 when no class was testable).
        public var pValue: Double
        /// The class with the largest normalised MMD².
        public var worstClass: Int?
        /// `‖μ_ic − μ_root,c‖²` of ``worstClass``.
        public var worstMMD: Double
        /// `T_c / E_c` of ``worstClass``.
        public var worstRatio: Double
        /// The mean normalised distance to the clients' median embedding (NaN when untested).
        public var deviation: Double
        /// The sample-weighted geometric mean of `V_client / V_root` (NaN when untested).
        public var varianceRatio: Double
        /// The sample-weighted geometric mean of the tail ratio (NaN when untested).
        public var tailRatio: Double
    }

    private struct Prepared {
        var embedding: KernelEmbedding
        var nulls: [(differences: [Float], norms: [Double], half: Int)?]
        var tails: [[Int]]
        var rootTailShare: [Double]
    }

    public func detect(_ updates: [ClientUpdate], context: DetectionContext, using rng: inout some RandomNumberGenerator) throws(DetectionError) -> DetectionOutput {
        let root = context.rootSet
        guard root.count > 0 else { throw DetectionError("sketch-mmd needs a non-empty root set") }
        let map = DataSketchBuilder.featureMap(roundSeed: context.roundSeed, inputDimension: root.featureCount, dimension: dimension, bandwidth: bandwidth)
        let prepared = prepare(KernelEmbedding(samples: root, map: map), using: &rng)
        var suspicions = [ClientID: Suspicion]()
        var valid = [(client: ClientID, sketch: DataSketch)]()
        for update in updates {
            guard let sketch = context.sketches[update.client] else {
                suspicions[update.client] = Suspicion(score: missingScore, reason: "sent no data sketch")
                continue
            }
            if let problem = malformation(sketch, classCount: root.classCount) {
                suspicions[update.client] = Suspicion(score: 1, reason: "malformed sketch: \(problem)")
                continue
            }
            valid.append((update.client, sketch))
        }
        let stats = statistics(valid.map(\.sketch), prepared: prepared, using: &rng)
        let zDeviation = RobustZ.scores(stats.map { log(max($0.deviation, 1e-12)) }.map { $0.isFinite ? $0 : .nan }, minimumScale: 0.1)
        let zVariance = RobustZ.scores(stats.map { -log($0.varianceRatio) }.map { $0.isFinite ? $0 : .nan }, minimumScale: 0.05)
        let zTail = RobustZ.scores(stats.map { -log($0.tailRatio) }.map { $0.isFinite ? $0 : .nan }, minimumScale: 0.05)
        let attainable = log10(Double(nullDraws + 1))
        for (index, entry) in valid.enumerated() {
            let s = stats[index]
            let mmdScore = min(1, max(0, -log10(s.pValue) / attainable))
            let classText = s.worstClass.map { "class \($0) " } ?? ""
            let candidates: [(score: Double, text: String)] = [
                (mmdScore, "\(classText)MMD² to the root set \(ReasonFormat.number(s.worstMMD)), \(ReasonFormat.number(s.worstRatio, 3))x its null mean, p = \(ReasonFormat.number(s.pValue, 2))"),
                (RobustZ.suspicion(zDeviation[index], center: zCenter, width: zWidth),
                 "embeddings \(ReasonFormat.number(s.deviation, 2))x their expected distance from the clients' median (robust z \(ReasonFormat.number(zDeviation[index], 2)))"),
                (RobustZ.suspicion(zVariance[index], center: zCenter, width: zWidth),
                 "kernel variance \(ReasonFormat.number(s.varianceRatio, 2))x the root's (robust z \(ReasonFormat.number(zVariance[index], 2)))"),
                (RobustZ.suspicion(zTail[index], center: zCenter, width: zWidth),
                 "tail mass \(ReasonFormat.number(s.tailRatio, 2))x the root's (robust z \(ReasonFormat.number(zTail[index], 2)))"),
            ]
            let best = candidates.max { $0.score < $1.score }!
            var features: [String: Double] = [
                "mmd_p_value": s.pValue, "mmd_worst": s.worstMMD, "deviation": s.deviation, "variance_ratio": s.varianceRatio,
                "tail_ratio": s.tailRatio, "z_deviation": zDeviation[index], "z_variance": zVariance[index], "z_tail": zTail[index],
            ]
            if let worst = s.worstClass { features["mmd_worst_class"] = Double(worst) }
            suspicions[entry.client] = Suspicion(score: best.score, reason: best.text, features: features)
        }
        return DetectionOutput(suspicions: suspicions)
    }

    private func malformation(_ sketch: DataSketch, classCount: Int) -> String? {
        if sketch.dimension != dimension { return "dimension \(sketch.dimension), expected \(dimension)" }
        if sketch.labelHistogram.count != classCount { return "\(sketch.labelHistogram.count) classes, expected \(classCount)" }
        if sketch.classEmbeddings.count != classCount * dimension { return "\(sketch.classEmbeddings.count) values, expected \(classCount * dimension)" }
        if sketch.labelHistogram.contains(where: { $0 < 0 }) { return "negative class count" }
        if !FedArenaNumerics.Statistics.allFinite(sketch.classEmbeddings) { return "non-finite embedding" }
        return nil
    }

    private func prepare(_ embedding: KernelEmbedding, using rng: inout some RandomNumberGenerator) -> Prepared {
        var nulls = [(differences: [Float], norms: [Double], half: Int)?]()
        var tails = [[Int]]()
        var shares = [Double]()
        for c in 0..<embedding.classCount {
            if let split = embedding.splitDifferences(c, draws: nullDraws, using: &rng) {
                let d = embedding.dimension
                let norms = (0..<nullDraws).map { b in VectorMath.sumOfSquares(Array(split.differences[(b * d)..<((b + 1) * d)])) }
                nulls.append((split.differences, norms, split.half))
            } else {
                nulls.append(nil)
            }
            let members = embedding.members[c].filter { embedding.looDensity[$0].isFinite }
            let sorted = members.sorted { embedding.looDensity[$0] < embedding.looDensity[$1] }
            let tail = Array(sorted.prefix(max(1, Int((tailFraction * Double(sorted.count)).rounded()))))
            tails.append(members.count >= 4 ? tail : [])
            let total = members.reduce(0) { $0 + embedding.looDensity[$1] }
            let inTail = tail.reduce(0) { $0 + embedding.looDensity[$1] }
            shares.append(members.count >= 4 && total > 0 && inTail > 0 ? inTail / total : .nan)
        }
        return Prepared(embedding: embedding, nulls: nulls, tails: tails, rootTailShare: shares)
    }

    private func statistics(_ sketches: [DataSketch], prepared: Prepared, using rng: inout some RandomNumberGenerator) -> [Statistics] {
        let e = prepared.embedding
        let d = dimension
        let classes = e.classCount
        // The clients' coordinate-wise median embedding per class (over clients with enough samples).
        var medians = [[Float]?](repeating: nil, count: classes)
        for c in 0..<classes {
            let rows = sketches.filter { $0.labelHistogram[c] >= minClassCount }.map { Array($0.classEmbeddings[(c * d)..<((c + 1) * d)]) }
            if rows.count >= 3 { medians[c] = FedArenaNumerics.Statistics.withRows(rows, columns: d) { CoordinateWise.median($0).values } }
        }
        return sketches.map { sketch in
            let density = BLAS.matmul(e.features, transposed(sketch.classEmbeddings, rows: classes, columns: d), m: e.labels.count, k: d, n: classes)
            var worstClass: Int?
            var worstMMD = 0.0
            var worstRatio = -Double.infinity
            var nullMax = [Double](repeating: -Double.infinity, count: nullDraws)
            var deviations = [Double]()
            var logVariance = (sum: 0.0, weight: 0.0)
            var logTail = (sum: 0.0, weight: 0.0)
            for c in 0..<classes {
                let n = sketch.labelHistogram[c]
                guard n >= minClassCount, e.count(c) >= 4, let null = prepared.nulls[c] else { continue }
                let sigma = noise?.standardDeviation(sampleCount: n) ?? 0
                let variance = sigma * sigma
                let mu = sketch.classEmbeddings[(c * d)..<((c + 1) * d)]
                let observed = VectorMath.squaredDistance(Array(mu), Array(e.mean(c)))
                let m = Double(e.count(c))
                let h = Double(null.half)
                let scale = (1 / Double(n) + 1 / m) / (1 / h + 1 / (m - h))
                var draws = [Double](repeating: 0, count: nullDraws)
                for b in 0..<nullDraws {
                    var value = scale * null.norms[b]
                    if sigma > 0 {
                        value += 2 * scale.squareRoot() * sigma * null.norms[b].squareRoot() * rng.standardNormalPair().0
                        value += variance * (Double(d) + (2 * Double(d)).squareRoot() * rng.standardNormalPair().0)
                    }
                    draws[b] = value
                }
                let expected = max(draws.reduce(0, +) / Double(nullDraws), 1e-12)
                for b in 0..<nullDraws { nullMax[b] = max(nullMax[b], draws[b] / expected) }
                if observed / expected > worstRatio { worstRatio = observed / expected; worstClass = c; worstMMD = observed }
                let rootVariance = e.kernelVariance(c)
                if let median = medians[c], rootVariance > 0 {
                    let expected = rootVariance / Double(n) + Double(d) * variance
                    deviations.append(VectorMath.squaredDistance(Array(mu), median) / expected)
                }
                if rootVariance > 0, let spread = e.spread(of: mu, count: n, noiseVariance: variance, classIndex: c) {
                    logVariance.sum += Double(n) * log(max(spread.variance / rootVariance, 1e-3))
                    logVariance.weight += Double(n)
                }
                let tail = prepared.tails[c]
                if !tail.isEmpty, prepared.rootTailShare[c].isFinite {
                    let total = e.members[c].reduce(0.0) { $0 + Double(density[$1 * classes + c]) }
                    let inTail = tail.reduce(0.0) { $0 + Double(density[$1 * classes + c]) }
                    if total > 0 {
                        let share = max(inTail / total, 1e-6)
                        logTail.sum += Double(n) * log(share / prepared.rootTailShare[c])
                        logTail.weight += Double(n)
                    }
                }
            }
            let exceed = worstClass == nil ? nullDraws : nullMax.filter { $0 >= worstRatio }.count
            return Statistics(
                pValue: Double(1 + exceed) / Double(nullDraws + 1), worstClass: worstClass, worstMMD: worstMMD,
                worstRatio: worstClass == nil ? .nan : worstRatio,
                deviation: deviations.isEmpty ? .nan : deviations.reduce(0, +) / Double(deviations.count),
                varianceRatio: logVariance.weight > 0 ? exp(logVariance.sum / logVariance.weight) : .nan,
                tailRatio: logTail.weight > 0 ? exp(logTail.sum / logTail.weight) : .nan)
        }
    }
}

/// The transpose of a row-major `rows x columns` matrix.
func transposed(_ values: [Float], rows: Int, columns: Int) -> [Float] {
    var result = [Float](repeating: 0, count: rows * columns)
    for r in 0..<rows {
        for c in 0..<columns { result[c * rows + r] = values[r * columns + c] }
    }
    return result
}
