import FedArenaCore
import FedArenaModels
import FedArenaNumerics
import Foundation

/// How close synthetic samples are to real ones.
public struct FidelityMetrics: Sendable, Equatable {
    /// Fréchet distance between Gaussians fitted to the two feature sets (lower is closer).
    public var frechetDistance: Double
    /// Share of synthetic samples inside some real sample's k-NN ball (Naeem et al. 2020).
    public var precision: Double
    /// Share of real samples inside some synthetic sample's k-NN ball.
    public var recall: Double
    /// Mean count of real k-NN balls holding a synthetic sample, over k (≈ 1 when matched).
    public var density: Double
    /// Share of real samples whose k-NN ball holds a synthetic sample.
    public var coverage: Double
    /// Held-out accuracy of a logistic classifier telling real from synthetic (0.5 = indistinguishable).
    public var c2stAccuracy: Double
    /// Train on synthetic, test on real: the accuracy on the real samples of a classifier
    /// trained on the labelled synthetic ones (`nil` when not computed).
    public var tstrAccuracy: Double?
    /// The median pixel-space distance from a synthetic sample to its nearest training sample
    /// (`nil` without the training set).
    public var nearestTrainingDistance: Double?
    /// The same median for the held-out real samples: what a generator that does not copy its
    /// training set matches (`nil` without the training set).
    public var heldOutNearestTrainingDistance: Double?
    /// The share of synthetic samples nearer to a training sample than 95% of held-out real
    /// samples are (≈ 0.05 for fresh samples, → 1 for copies; `nil` without the training set).
    public var copyShare: Double?
    /// The real and synthetic sample counts used.
    public var realCount: Int, syntheticCount: Int

    /// Creates a set of metrics.
    public init(
        frechetDistance: Double, precision: Double, recall: Double, density: Double, coverage: Double, c2stAccuracy: Double,
        tstrAccuracy: Double? = nil, nearestTrainingDistance: Double? = nil, heldOutNearestTrainingDistance: Double? = nil,
        copyShare: Double? = nil, realCount: Int, syntheticCount: Int
    ) {
        self.frechetDistance = frechetDistance
        self.precision = precision
        self.recall = recall
        self.density = density
        self.coverage = coverage
        self.c2stAccuracy = c2stAccuracy
        self.tstrAccuracy = tstrAccuracy
        self.nearestTrainingDistance = nearestTrainingDistance
        self.heldOutNearestTrainingDistance = heldOutNearestTrainingDistance
        self.copyShare = copyShare
        self.realCount = realCount
        self.syntheticCount = syntheticCount
    }

    /// ``nearestTrainingDistance`` over ``heldOutNearestTrainingDistance`` (< 1: nearer to
    /// the training set than fresh real data is, a sign of memorisation).
    public var nearestDistanceRatio: Double? {
        guard let synthetic = nearestTrainingDistance, let real = heldOutNearestTrainingDistance, real > 0 else { return nil }
        return synthetic / real
    }
}

/// Fidelity metrics of synthetic against real samples (both `n x d`, values in [0, 1]).
///
/// **Feature space.** The Fréchet distance and precision / recall / density / coverage are
/// computed on `φ(x) = ReLU(x W)`, where `W` is a fixed `d x 64` Gaussian matrix with entries
/// `N(0, 1/d)` drawn from `SeededGenerator(seed: Fidelity.featureSeed)` in row-major order — a
/// random-feature embedding independent of any data set, so numbers are comparable across runs,
/// clients and generators (but not with Inception-based FID values in the literature).
///
/// - Fréchet distance (Dowson and Landau 1982; as FID in Heusel et al. 2017):
///   `‖μ_r − μ_s‖² + tr(Σ_r + Σ_s − 2 (Σ_r^{1/2} Σ_s Σ_r^{1/2})^{1/2})`, symmetric square roots
///   by Jacobi eigen-decomposition in `Double`.
/// - Precision, recall, density, coverage (Naeem et al. 2020, "Reliable fidelity and diversity
///   metrics for generative models", ICML), `k = 5` nearest neighbours, Euclidean distance; the
///   recall follows Kynkäänniemi et al. 2019 (synthetic k-NN balls).
/// - C2ST (Lopez-Paz and Oquab 2017, "Revisiting classifier two-sample tests", ICLR): equal
///   numbers of real and synthetic samples, shuffled and split in halves; a two-class
///   logistic (softmax) regression on the pixels and their squares (so per-pixel variance
///   differences are linearly visible), 20 epochs of SGD (lr 0.05, momentum 0.9, batch 64);
///   the accuracy on the second half.
/// - Train on synthetic, test on real (TSTR; Esteban, Hyland and Rätsch 2017, "Real-valued
///   (medical) time series generation with recurrent conditional GANs"): an MLP with one
///   hidden layer of 128 ReLU units (Models' `MLP`), 15 epochs of SGD (lr 0.05, momentum 0.9,
///   batch 32) on the synthetic samples and their labels, its accuracy on the real samples.
/// - Memorisation (the data-copying comparison of Meehan, Chaudhuri and Dasgupta 2020, "A
///   non-parametric test to detect data-copying in generative models", AISTATS): Euclidean
///   pixel-space distances from each synthetic sample, and from each held-out real sample,
///   to its nearest training sample; the medians of both and the share of synthetic samples
///   below the held-out distances' 5th percentile.
public enum Fidelity {
    /// The width of the feature space.
    public static let featureDimension = 64
    /// The seed of the fixed projection.
    public static let featureSeed: UInt64 = 0xF1DE_1172
    /// The neighbourhood size of precision / recall / density / coverage.
    public static let neighbours = 5

    /// Computes every metric.
    /// - Parameters:
    ///   - real: held-out real samples (at least `neighbours + 2`).
    ///   - synthetic: the samples to judge, same feature count and classes.
    ///   - training: the samples the generator was fitted on, for the memorisation metrics
    ///     (`nil`: left out).
    ///   - seed: the seed of the C2ST shuffle and of both classifiers.
    /// - Returns: the metrics.
    /// - Throws: ``SynthesisError`` `.invalidArgument` for mismatched or too small sets.
    public static func evaluate(
        real: LabeledSamples, synthetic: LabeledSamples, training: LabeledSamples? = nil, seed: UInt64 = 0
    ) throws(SynthesisError) -> FidelityMetrics {
        guard real.featureCount == synthetic.featureCount else {
            throw SynthesisError(.invalidArgument, "real has \(real.featureCount) features, synthetic \(synthetic.featureCount)")
        }
        guard real.classCount == synthetic.classCount else {
            throw SynthesisError(.invalidArgument, "real has \(real.classCount) classes, synthetic \(synthetic.classCount)")
        }
        if let training, training.featureCount != real.featureCount || training.count == 0 {
            throw SynthesisError(.invalidArgument, "the training set has \(training.count) samples of \(training.featureCount) features; need at least one of \(real.featureCount)")
        }
        guard real.count > neighbours + 1, synthetic.count > neighbours + 1 else {
            throw SynthesisError(.invalidArgument, "fidelity needs more than \(neighbours + 1) samples on each side, got \(real.count) and \(synthetic.count)")
        }
        let d = real.featureCount
        let fr = features(real.features, count: real.count, featureCount: d)
        let fs = features(synthetic.features, count: synthetic.count, featureCount: d)
        let fd = frechetDistance(fr, fs, dimension: featureDimension)
        let prdc = precisionRecallDensityCoverage(real: fr, synthetic: fs, dimension: featureDimension, k: neighbours)
        let c2st = try c2stAccuracy(real: real.features, synthetic: synthetic.features, featureCount: d, seed: seed)
        let tstr = try tstrAccuracy(train: synthetic, test: real, seed: seed)
        var memorisation: (synthetic: Double, real: Double, copies: Double)?
        if let training {
            let toSynthetic = nearestDistances(from: synthetic.features, to: training.features, dimension: d)
            let toReal = nearestDistances(from: real.features, to: training.features, dimension: d)
            let threshold = quantile(toReal, 0.05)
            let copies = Double(toSynthetic.filter { $0 < threshold }.count) / Double(toSynthetic.count)
            memorisation = (quantile(toSynthetic, 0.5), quantile(toReal, 0.5), copies)
        }
        return FidelityMetrics(
            frechetDistance: fd, precision: prdc.precision, recall: prdc.recall, density: prdc.density, coverage: prdc.coverage,
            c2stAccuracy: c2st, tstrAccuracy: tstr, nearestTrainingDistance: memorisation?.synthetic,
            heldOutNearestTrainingDistance: memorisation?.real, copyShare: memorisation?.copies, realCount: real.count,
            syntheticCount: synthetic.count)
    }

    /// The accuracy on `test` of the TSTR classifier (see the type's notes) trained on `train`.
    /// - Parameters:
    ///   - train: the labelled samples to train on (synthetic for TSTR).
    ///   - test: the labelled samples to score (real).
    ///   - seed: the classifier's initialisation and shuffling seed.
    /// - Returns: the share of `test` classified correctly.
    /// - Throws: ``SynthesisError`` `.invalidArgument` when the classifier cannot be built or trained.
    public static func tstrAccuracy(train: LabeledSamples, test: LabeledSamples, seed: UInt64) throws(SynthesisError) -> Double {
        guard train.count > 0, test.count > 0, train.featureCount == test.featureCount, train.classCount == test.classCount else {
            throw SynthesisError(.invalidArgument, "TSTR needs non-empty sets of the same shape, got \(train.count) and \(test.count) samples")
        }
        do throws(ModelError) {
            let model = try MLP(inputs: train.featureCount, hidden: [128], classes: train.classCount)
            let configuration = try LocalTrainer.Configuration(epochs: 15, batchSize: 32, optimizer: try SGD(learningRate: 0.05, momentum: 0.9))
            var initRng = SeededGenerator(seed: seed, stream: [0x7577, 1])
            let start = model.initialParameters(using: &initRng)
            let trained = try LocalTrainer(model: model, configuration: configuration).train(from: start, on: train, seed: seed, stream: [0x7577, 2])
            let predictions = try model.predict(parameters: trained.parameters, features: test.features)
            let correct = zip(predictions, test.labels).filter { $0 == $1 }.count
            return Double(correct) / Double(test.count)
        } catch {
            throw SynthesisError(.invalidArgument, "TSTR classifier: \(error)")
        }
    }

    /// The Euclidean distance from each row of `a` to its nearest row of `b`.
    /// - Parameters:
    ///   - a: row-major rows of `dimension` values.
    ///   - b: row-major rows of `dimension` values (at least one).
    ///   - dimension: values per row.
    /// - Returns: one distance per row of `a`.
    public static func nearestDistances(from a: [Float], to b: [Float], dimension: Int) -> [Double] {
        let n = a.count / dimension
        let m = b.count / dimension
        var nearest = [Double](repeating: .infinity, count: n)
        // Blocks of 512 rows of `a` keep the distance matrix small.
        var start = 0
        while start < n {
            let rows = min(512, n - start)
            let block = pairwiseDistances(Array(a[(start * dimension)..<((start + rows) * dimension)]), b, dimension: dimension)
            for i in 0..<rows {
                var best = Float.infinity
                for j in 0..<m where block[i * m + j] < best { best = block[i * m + j] }
                nearest[start + i] = Double(best)
            }
            start += rows
        }
        return nearest
    }

    /// The `q`-quantile of `values` (linear interpolation between order statistics, numpy's default).
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        guard sorted.count > 1 else { return sorted.first ?? .nan }
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }

    /// The fixed embedding `ReLU(x W)` of `count` rows (`count x 64`).
    public static func features(_ x: [Float], count: Int, featureCount d: Int) -> [Float] {
        var rng = SeededGenerator(seed: featureSeed)
        let scale = 1 / Double(d).squareRoot()
        let w = (0..<(d * featureDimension)).map { _ in Float(rng.normal() * scale) }
        var out = BLAS.matmul(x, w, m: count, k: d, n: featureDimension)
        for i in out.indices where out[i] < 0 { out[i] = 0 }
        return out
    }

    /// The Fréchet distance between Gaussians fitted (mean, unbiased covariance) to two sets of
    /// `dimension`-wide rows.
    public static func frechetDistance(_ a: [Float], _ b: [Float], dimension n: Int) -> Double {
        let (meanA, covA) = moments(a, dimension: n)
        let (meanB, covB) = moments(b, dimension: n)
        var distance = 0.0
        for j in 0..<n { distance += (meanA[j] - meanB[j]) * (meanA[j] - meanB[j]) }
        let rootA = symmetricRoot(covA, n: n)
        // M = √Σa Σb √Σa, symmetric PSD; tr √M = tr (Σa Σb)^{1/2}.
        let m = multiply(multiply(rootA, covB, n: n), rootA, n: n)
        let cross = Spectral.symmetricEigen(m, n: n).values.reduce(0) { $0 + max($1, 0).squareRoot() }
        var traces = 0.0
        for j in 0..<n { traces += covA[j * n + j] + covB[j * n + j] }
        return max(distance + traces - 2 * cross, 0)
    }

    /// Precision, recall, density and coverage (Naeem et al. 2020) with `k` neighbours.
    public static func precisionRecallDensityCoverage(
        real: [Float], synthetic: [Float], dimension: Int, k: Int
    ) -> (precision: Double, recall: Double, density: Double, coverage: Double) {
        let n = real.count / dimension
        let m = synthetic.count / dimension
        let realRadii = kthNeighbourDistances(pairwiseDistances(real, real, dimension: dimension), rows: n, columns: n, k: k, excludingSelf: true)
        let fakeRadii = kthNeighbourDistances(pairwiseDistances(synthetic, synthetic, dimension: dimension), rows: m, columns: m, k: k, excludingSelf: true)
        let cross = pairwiseDistances(real, synthetic, dimension: dimension)  // n x m
        var precise = [Bool](repeating: false, count: m)
        var densityCount = 0
        var covered = 0
        var recalled = 0
        for i in 0..<n {
            var coveredHere = false
            var recalledHere = false
            for j in 0..<m {
                let distance = cross[i * m + j]
                if distance <= realRadii[i] {
                    precise[j] = true
                    densityCount += 1
                    coveredHere = true
                }
                if distance <= fakeRadii[j] { recalledHere = true }
            }
            if coveredHere { covered += 1 }
            if recalledHere { recalled += 1 }
        }
        return (
            Double(precise.filter { $0 }.count) / Double(m), Double(recalled) / Double(n),
            Double(densityCount) / Double(k * m), Double(covered) / Double(n)
        )
    }

    /// Held-out accuracy of a logistic classifier separating `real` from `synthetic` rows (see the type's notes).
    public static func c2stAccuracy(real: [Float], synthetic: [Float], featureCount d: Int, seed: UInt64) throws(SynthesisError) -> Double {
        let perSide = min(real.count, synthetic.count) / d
        guard perSide >= 2 else { throw SynthesisError(.invalidArgument, "C2ST needs at least 2 samples per side") }
        var rng = SeededGenerator(seed: seed, stream: [0xC257])
        let realRows = rng.permutation(real.count / d).prefix(perSide)
        let fakeRows = rng.permutation(synthetic.count / d).prefix(perSide)
        var rows: [(source: Int, row: Int)] = realRows.map { (0, $0) } + fakeRows.map { (1, $0) }
        rng.shuffle(&rows)
        var inputs = [Float]()
        inputs.reserveCapacity(rows.count * 2 * d)
        for (source, row) in rows {
            let values = source == 0 ? real[(row * d)..<((row + 1) * d)] : synthetic[(row * d)..<((row + 1) * d)]
            inputs += values
            inputs += values.map { $0 * $0 }
        }
        let labels = rows.map { Int32($0.source) }
        let half = rows.count / 2
        let train = LabeledSamples(features: Array(inputs[0..<(half * 2 * d)]), labels: Array(labels[0..<half]), featureCount: 2 * d, classCount: 2)
        let testFeatures = Array(inputs[(half * 2 * d)...])
        let testLabels = Array(labels[half...])
        do throws(ModelError) {
            let model = try SoftmaxRegression(inputs: 2 * d, classes: 2)
            let configuration = try LocalTrainer.Configuration(epochs: 20, batchSize: 64, optimizer: try SGD(learningRate: 0.05, momentum: 0.9))
            var initRng = SeededGenerator(seed: seed, stream: [0xC257, 1])
            let start = model.initialParameters(using: &initRng)
            let trained = try LocalTrainer(model: model, configuration: configuration).train(from: start, on: train, seed: seed, stream: [0xC257, 2])
            let predictions = try model.predict(parameters: trained.parameters, features: testFeatures)
            let correct = zip(predictions, testLabels).filter { $0 == $1 }.count
            return Double(correct) / Double(testLabels.count)
        } catch {
            throw SynthesisError(.invalidArgument, "C2ST classifier: \(error)")
        }
    }

    // MARK: - Helpers

    private static func moments(_ x: [Float], dimension n: Int) -> ([Double], [Double]) {
        let rows = x.count / n
        var mean = [Double](repeating: 0, count: n)
        for i in 0..<rows { for j in 0..<n { mean[j] += Double(x[i * n + j]) } }
        mean = mean.map { $0 / Double(rows) }
        var centered = x
        for i in 0..<rows { for j in 0..<n { centered[i * n + j] -= Float(mean[j]) } }
        let product = BLAS.matmulTransposingFirst(centered, centered, m: n, n: n, k: rows)
        return (mean, product.map { Double($0) / Double(max(rows - 1, 1)) })
    }

    private static func symmetricRoot(_ matrix: [Double], n: Int) -> [Double] {
        let (values, vectors) = Spectral.symmetricEigen(matrix, n: n)
        var root = [Double](repeating: 0, count: n * n)
        for r in 0..<n {
            let s = max(values[r], 0).squareRoot()
            if s == 0 { continue }
            for i in 0..<n {
                let vi = vectors[r * n + i] * s
                for j in 0..<n { root[i * n + j] += vi * vectors[r * n + j] }
            }
        }
        return root
    }

    private static func multiply(_ a: [Double], _ b: [Double], n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for k in 0..<n {
                let aik = a[i * n + k]
                if aik == 0 { continue }
                for j in 0..<n { c[i * n + j] += aik * b[k * n + j] }
            }
        }
        return c
    }

    /// Euclidean distances (not squared) between the rows of `a` and of `b`, `|a| x |b|`.
    static func pairwiseDistances(_ a: [Float], _ b: [Float], dimension: Int) -> [Float] {
        let n = a.count / dimension
        let m = b.count / dimension
        var product = BLAS.matmulTransposed(a, b, m: n, n: m, k: dimension)
        let normsA = (0..<n).map { i in a[(i * dimension)..<((i + 1) * dimension)].reduce(Float(0)) { $0 + $1 * $1 } }
        let normsB = (0..<m).map { j in b[(j * dimension)..<((j + 1) * dimension)].reduce(Float(0)) { $0 + $1 * $1 } }
        for i in 0..<n {
            for j in 0..<m { product[i * m + j] = max(normsA[i] + normsB[j] - 2 * product[i * m + j], 0).squareRoot() }
        }
        return product
    }

    /// The distance from each row to its `k`-th nearest column (skipping the diagonal when
    /// `excludingSelf`).
    private static func kthNeighbourDistances(_ distances: [Float], rows: Int, columns: Int, k: Int, excludingSelf: Bool) -> [Float] {
        (0..<rows).map { i in
            var best = [Float](repeating: .infinity, count: k)  // ascending
            for j in 0..<columns where !(excludingSelf && i == j) {
                let value = distances[i * columns + j]
                if value < best[k - 1] {
                    var position = k - 1
                    while position > 0 && best[position - 1] > value {
                        best[position] = best[position - 1]
                        position -= 1
                    }
                    best[position] = value
                }
            }
            return best[k - 1]
        }
    }
}

/// One row of a fidelity table.
public struct FidelityRow: Sendable, Equatable {
    /// The generator's name (or `real` for the real-vs-real reference).
    public var name: String
    /// The metrics against the held-out real samples.
    public var metrics: FidelityMetrics
    /// Seconds spent fitting (0 for the reference).
    public var fitSeconds: Double
    /// Seconds spent sampling.
    public var sampleSeconds: Double
    /// Process CPU seconds spent fitting (0 for the reference).
    public var fitCPUSeconds: Double

    /// Creates a row.
    public init(name: String, metrics: FidelityMetrics, fitSeconds: Double, sampleSeconds: Double, fitCPUSeconds: Double = 0) {
        self.name = name
        self.metrics = metrics
        self.fitSeconds = fitSeconds
        self.sampleSeconds = sampleSeconds
        self.fitCPUSeconds = fitCPUSeconds
    }

    /// The rows as a Markdown table (header, separator, one line per row).
    public static func markdown(_ rows: [FidelityRow]) -> String {
        var lines = [
            "| generator | fit s | fit cpu s | FD (rand-ReLU-64) | precision | recall | density | coverage | C2ST acc | TSTR acc | NN dist | NN ratio | copies |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in rows {
            let m = row.metrics
            lines.append(
                "| \(row.name) | \(format(row.fitSeconds, 2)) | \(format(row.fitCPUSeconds, 2)) | \(format(m.frechetDistance, 3)) | \(format(m.precision, 3)) | "
                    + "\(format(m.recall, 3)) | \(format(m.density, 3)) | \(format(m.coverage, 3)) | \(format(m.c2stAccuracy, 3)) | "
                    + "\(format(m.tstrAccuracy, 3)) | \(format(m.nearestTrainingDistance, 2)) | \(format(m.nearestDistanceRatio, 2)) | \(format(m.copyShare, 3)) |")
        }
        return lines.joined(separator: "\n")
    }

    private static func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
    private static func format(_ value: Double?, _ digits: Int) -> String { value.map { format($0, digits) } ?? "-" }
}
