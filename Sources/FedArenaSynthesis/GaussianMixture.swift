import FedArenaCore
import FedArenaNumerics
import Foundation

/// A class-conditional Gaussian mixture with diagonal covariances, fitted per class by
/// expectation-maximisation (Dempster, Laird and Rubin 1977, "Maximum likelihood from incomplete
/// data via the EM algorithm", J. R. Stat. Soc. B 39(1); Bishop, *Pattern Recognition and
/// Machine Learning*, 2006, §9.2), initialised by k-means++ seeding (Arthur and Vassilvitskii
/// 2007, "k-means++: the advantages of careful seeding", SODA).
///
/// Per class with samples `x_1..x_n` and `K` components:
/// - init: centres by k-means++ (first uniform, then each with probability ∝ the squared
///   distance to the nearest centre chosen), weights `1/K`, every variance the class's
///   per-feature variance (floored);
/// - E-step: responsibilities `r_ik ∝ π_k N(x_i | μ_k, diag σ²_k)` (log-sum-exp in `Double`);
/// - M-step: `N_k = Σ_i r_ik`, `π_k = N_k / n`, `μ_k = Σ_i r_ik x_i / N_k`,
///   `σ²_kj = max(floor, Σ_i r_ik (x_ij − μ_kj)² / N_k)`; a component whose `N_k` is
///   negligible keeps its mean and variances (with weight ≈ 0).
///
/// **Monotonicity.** Each EM iteration does not decrease the log-likelihood
/// `Σ_i log Σ_k π_k N(x_i | μ_k, σ²_k)` (Dempster et al. 1977, Theorem 1). The variance floor
/// keeps this: for fixed responsibilities the expected complete-data log-likelihood of one
/// coordinate, `−½ N_k (log σ² + s/σ²)`, is unimodal in `σ²` with its peak at `s`, so
/// `max(floor, s)` is the exact maximiser over `σ² ≥ floor` and the M-step stays a true
/// (constrained) maximisation. ``ClassModel/logLikelihoods`` records the mean per-sample value
/// before every M-step and after the last one; the tests check it never falls (beyond float
/// rounding). Iteration stops after ``iterations`` steps or once the gain per sample is below
/// ``tolerance`` times its magnitude.
///
/// A sample of class `c` at temperature `T`: component `k` drawn with probability `π_k`, then
/// `clip₀¹(μ_k + σ_k ⊙ z · T)`, `z ~ N(0, I_d)`.
public struct GaussianMixture: Generator, Equatable {
    /// One mixture component.
    public struct Component: Sendable, Equatable {
        /// The mixing weight `π_k`.
        public var weight: Double
        /// The mean, `d` values.
        public var mean: [Float]
        /// The per-feature variances, `d` values, each ≥ the floor.
        public var variance: [Float]
    }

    /// The fitted mixture of one class.
    public struct ClassModel: Sendable, Equatable {
        /// The components.
        public var components: [Component]
        /// The mean per-sample log-likelihood before each M-step and after the last one.
        public var logLikelihoods: [Double]
        /// The samples the class was fitted on.
        public var sampleCount: Int
    }

    public var name: String { "gmm" }
    /// Components per class, `K`.
    public let components: Int
    /// The EM iteration cap.
    public let iterations: Int
    /// The relative log-likelihood gain below which EM stops.
    public let tolerance: Double
    /// The smallest variance of any feature of any component.
    public let varianceFloor: Double
    /// What to do with classes of fewer than `K` samples (`.shrink` uses `n` components).
    public let smallClasses: SmallClassPolicy
    /// The fitted classes (`nil` for a class without samples); empty before fitting.
    public private(set) var classes: [ClassModel?] = []
    /// The number of features per sample, 0 before fitting.
    public private(set) var featureCount = 0

    /// Creates an unfitted mixture.
    /// - Parameters:
    ///   - components: `K` per class, ≥ 1.
    ///   - iterations: the EM cap, ≥ 1.
    ///   - tolerance: the relative stopping gain, ≥ 0.
    ///   - varianceFloor: the smallest variance, > 0.
    ///   - smallClasses: the policy for classes with fewer than `K` samples.
    /// - Throws: ``GeneratorError`` for values out of range.
    public init(
        components: Int = 5, iterations: Int = 100, tolerance: Double = 1e-6, varianceFloor: Double = 1e-3,
        smallClasses: SmallClassPolicy = .fail
    ) throws(GeneratorError) {
        guard components >= 1 else { throw GeneratorError("gmm: components must be at least 1, got \(components)") }
        guard iterations >= 1 else { throw GeneratorError("gmm: iterations must be at least 1, got \(iterations)") }
        guard tolerance >= 0, tolerance.isFinite else { throw GeneratorError("gmm: tolerance must be finite and ≥ 0, got \(tolerance)") }
        guard varianceFloor > 0, varianceFloor.isFinite else {
            throw GeneratorError("gmm: variance floor must be finite and > 0, got \(varianceFloor)")
        }
        self.components = components
        self.iterations = iterations
        self.tolerance = tolerance
        self.varianceFloor = varianceFloor
        self.smallClasses = smallClasses
    }

    /// Fits one mixture per class present in `samples`.
    /// - Throws: ``GeneratorError`` for an empty or malformed set, or (policy `.fail`) a class
    ///   with fewer samples than components, naming the class and the counts.
    public mutating func fit(_ samples: LabeledSamples, using rng: inout some RandomNumberGenerator) throws(GeneratorError) {
        try ClassSplit.validate(samples, generator: name)
        let split = ClassSplit(samples)
        var models = [ClassModel?](repeating: nil, count: samples.classCount)
        for c in 0..<samples.classCount where split.counts[c] > 0 {
            let n = split.counts[c]
            var k = components
            if n < components {
                guard smallClasses == .shrink else {
                    throw GeneratorError(
                        "gmm: class \(c) has \(n) sample\(n == 1 ? "" : "s"), need at least \(components) for \(components) components")
                }
                k = n
            }
            models[c] = fitClass(split.features[c], rows: n, d: samples.featureCount, components: k, using: &rng)
        }
        classes = models
        featureCount = samples.featureCount
    }

    func fitClass(_ x: [Float], rows n: Int, d: Int, components k: Int, using rng: inout some RandomNumberGenerator) -> ClassModel {
        let floor = Float(varianceFloor)
        // Class variance (the initial variance of every component).
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += Double(x[i * d + j]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        var spread = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { let e = Double(x[i * d + j]) - mean[j]; spread[j] += e * e } }
        let initialVariance = spread.map { max(Float($0 / Double(n)), floor) }

        // k-means++ seeding.
        var centres = [rng.uniformIndex(below: n)]
        var nearest = [Double](repeating: .infinity, count: n)
        while centres.count < k {
            let last = centres[centres.count - 1]
            x.withUnsafeBufferPointer { px in
                for i in 0..<n {
                    nearest[i] = min(nearest[i], Statistics.squaredDistance(px.baseAddress! + i * d, px.baseAddress! + last * d, count: d))
                }
            }
            if nearest.reduce(0, +) > 0 {
                centres.append(rng.categoricalIndex(nearest))
            } else {
                // Every sample coincides with a centre: take any unused index.
                centres.append((0..<n).first { !centres.contains($0) } ?? 0)
            }
        }
        var parts = centres.map { index in
            Component(weight: 1 / Double(k), mean: Array(x[(index * d)..<((index + 1) * d)]), variance: initialVariance)
        }

        var responsibilities = [Double](repeating: 0, count: n * k)
        var history = [Double]()
        for iteration in 0...iterations {
            let logLikelihood = eStep(x, rows: n, d: d, parts, into: &responsibilities)
            history.append(logLikelihood / Double(n))
            if iteration == iterations { break }
            if history.count >= 2 {
                let gain = history[history.count - 1] - history[history.count - 2]
                if gain < tolerance * max(abs(history[history.count - 1]), 1) { break }
            }
            mStep(x, rows: n, d: d, responsibilities, &parts, floor: floor)
        }
        return ClassModel(components: parts, logLikelihoods: history, sampleCount: n)
    }

    /// Fills the responsibilities and returns the total log-likelihood.
    private func eStep(_ x: [Float], rows n: Int, d: Int, _ parts: [Component], into r: inout [Double]) -> Double {
        let k = parts.count
        let logTwoPi = log(2 * Double.pi)
        let constants = parts.map { part in
            log(part.weight) - 0.5 * part.variance.reduce(0.0) { $0 + logTwoPi + log(Double($1)) }
        }
        let precisions = parts.map { $0.variance.map { 1 / $0 } }
        var total = 0.0
        var logs = [Double](repeating: 0, count: k)
        x.withUnsafeBufferPointer { px in
            for i in 0..<n {
                let row = px.baseAddress! + i * d
                for c in 0..<k {
                    guard parts[c].weight > 0 else { logs[c] = -.infinity; continue }
                    let quadratic = parts[c].mean.withUnsafeBufferPointer { pm in
                        precisions[c].withUnsafeBufferPointer { pp in
                            Self.weightedSquaredDistance(row, pm.baseAddress!, pp.baseAddress!, count: d)
                        }
                    }
                    logs[c] = constants[c] - 0.5 * quadratic
                }
                let top = logs.max()!
                var sum = 0.0
                for c in 0..<k { sum += exp(logs[c] - top) }
                let logSum = top + log(sum)
                total += logSum
                for c in 0..<k { r[i * k + c] = exp(logs[c] - logSum) }
            }
        }
        return total
    }

    private func mStep(_ x: [Float], rows n: Int, d: Int, _ r: [Double], _ parts: inout [Component], floor: Float) {
        let k = parts.count
        for c in 0..<k {
            var mass = 0.0
            for i in 0..<n { mass += r[i * k + c] }
            parts[c].weight = mass / Double(n)
            guard mass > 1e-10 * Double(n) else { continue }
            var mean = [Double](repeating: 0, count: d)
            for i in 0..<n {
                let weight = r[i * k + c]
                if weight == 0 { continue }
                for j in 0..<d { mean[j] += weight * Double(x[i * d + j]) }
            }
            for j in 0..<d { mean[j] /= mass }
            var variance = [Double](repeating: 0, count: d)
            for i in 0..<n {
                let weight = r[i * k + c]
                if weight == 0 { continue }
                for j in 0..<d { let e = Double(x[i * d + j]) - mean[j]; variance[j] += weight * e * e }
            }
            parts[c].mean = mean.map { Float($0) }
            parts[c].variance = variance.map { max(Float($0 / mass), floor) }
        }
    }

    /// `Σ_j (x_j − μ_j)² p_j`, eight float lanes summed into a `Double` every 512 values.
    private static func weightedSquaredDistance(
        _ x: UnsafePointer<Float>, _ mu: UnsafePointer<Float>, _ p: UnsafePointer<Float>, count: Int
    ) -> Double {
        var total = 0.0
        var j = 0
        while j + 8 <= count {
            var lanes = SIMD8<Float>()
            let end = min(count - count % 8, j + 512)
            while j < end {
                let e = UnsafeRawPointer(x).loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
                    - UnsafeRawPointer(mu).loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
                lanes += e * e * UnsafeRawPointer(p).loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
                j += 8
            }
            total += Double(lanes.sum())
        }
        while j < count {
            let e = Double(x[j]) - Double(mu[j])
            total += e * e * Double(p[j])
            j += 1
        }
        return total
    }

    public func sample(count: Int, label: Int?, temperature: Double, using rng: inout some RandomNumberGenerator) throws(GeneratorError) -> LabeledSamples {
        guard temperature.isFinite, temperature >= 0 else { throw GeneratorError("gmm: temperature must be finite and ≥ 0, got \(temperature)") }
        let labels = try LabelPlan.labels(
            count: count, label: label, classCounts: classes.map { $0?.sampleCount ?? 0 }, fitted: classes.map { $0 != nil },
            generator: name, using: &rng)
        let d = featureCount
        let t = Float(temperature)
        var features = [Float](repeating: 0, count: count * d)
        for (row, label) in labels.enumerated() {
            let model = classes[Int(label)]!
            let part = model.components[rng.categoricalIndex(model.components.map(\.weight))]
            let z = rng.standardNormals(d)
            for j in 0..<d { features[row * d + j] = part.mean[j] + part.variance[j].squareRoot() * z[j] * t }
        }
        LabelPlan.clip(&features)
        return LabeledSamples(features: features, labels: labels, featureCount: d, classCount: classes.count)
    }
}
