import FedArenaCore
import FedArenaNumerics

/// A class-conditional Gaussian restricted to a `k`-dimensional principal subspace
/// (probabilistic PCA; Tipping and Bishop 1999, "Probabilistic principal component analysis",
/// J. R. Stat. Soc. B 61(3); Bishop, *Pattern Recognition and Machine Learning*, 2006, §12.2).
///
/// For each class `c` with samples `x_1..x_n`: the mean `μ_c`, the sample covariance
/// `S_c = Σ (x_i − μ_c)(x_i − μ_c)ᵀ / (n − 1)` (one `sgemm`), its top `k` eigenpairs
/// `(λ_j, v_j)` by block subspace iteration with Rayleigh-Ritz extraction, and the isotropic
/// residual variance `σ² = (tr S_c − Σ_j λ_j) / (d − k)` (the maximum-likelihood PPCA noise).
///
/// A sample of class `c` at temperature `T` is
/// `clip₀¹(μ_c + Σ_j v_j · √λ_j · z_j · T  [+ σ · T · ε])`, `z ~ N(0, I_k)`, `ε ~ N(0, I_d)`, the
/// bracket only when ``residual`` is on. Without the residual the samples lie in the subspace
/// (smooth images); with it they carry the per-pixel noise PPCA attributes to the rest.
///
/// Randomness: the subspace iteration starts from a Gaussian block drawn from the fit's
/// generator (class by class, in class order); sampling draws the labels first, then `k` (and
/// `d`) normals per sample in sample order.
public struct GaussianPCA: Generator, Equatable {
    /// The fitted model of one class.
    public struct ClassModel: Sendable, Equatable {
        /// The class mean, `d` values.
        public var mean: [Float]
        /// The principal directions, `components x d` row-major, unit rows, descending variance.
        public var directions: [Float]
        /// The variance along each direction (`λ_j`), descending.
        public var variances: [Double]
        /// The isotropic residual variance `σ²` outside the subspace.
        public var residualVariance: Double
        /// The samples the class was fitted on.
        public var sampleCount: Int
        /// The number of components (rows of ``directions``).
        public var components: Int { variances.count }
    }

    public var name: String { "gaussian-pca" }
    /// The number of principal components per class.
    public let components: Int
    /// Whether samples add the isotropic residual noise.
    public let residual: Bool
    /// What to do with classes of `≤ components` samples.
    public let smallClasses: SmallClassPolicy
    /// The fitted classes (`nil` for a class without samples); empty before ``fit(_:using:)``.
    public private(set) var classes: [ClassModel?] = []
    /// The number of features per sample, 0 before fitting.
    public private(set) var featureCount = 0

    /// Creates an unfitted generator.
    /// - Parameters:
    ///   - components: `k`, at least 1.
    ///   - residual: add the residual noise when sampling.
    ///   - smallClasses: the policy for classes with `≤ k` samples.
    /// - Throws: ``GeneratorError`` when `components < 1`.
    public init(components: Int = 20, residual: Bool = false, smallClasses: SmallClassPolicy = .fail) throws(GeneratorError) {
        guard components >= 1 else { throw GeneratorError("gaussian-pca: components must be at least 1, got \(components)") }
        self.components = components
        self.residual = residual
        self.smallClasses = smallClasses
    }

    /// Fits one Gaussian per class present in `samples`.
    /// - Throws: ``GeneratorError`` for an empty or malformed set, `k ≥ d`, or (policy
    ///   `.fail`) a class with `≤ k` samples, naming the class and the counts.
    public mutating func fit(_ samples: LabeledSamples, using rng: inout some RandomNumberGenerator) throws(GeneratorError) {
        try ClassSplit.validate(samples, generator: name)
        let d = samples.featureCount
        guard components < d else {
            throw GeneratorError("gaussian-pca: components (\(components)) must be below the feature count (\(d))")
        }
        let split = ClassSplit(samples)
        var models = [ClassModel?](repeating: nil, count: samples.classCount)
        for c in 0..<samples.classCount where split.counts[c] > 0 {
            let n = split.counts[c]
            var k = components
            if n <= components {
                switch smallClasses {
                case .fail:
                    throw GeneratorError(
                        "gaussian-pca: class \(c) has \(n) sample\(n == 1 ? "" : "s"), need at least \(components + 1) for \(components) components")
                case .shrink:
                    k = n - 1
                }
            }
            models[c] = Self.fitClass(split.features[c], rows: n, d: d, components: k, using: &rng)
        }
        classes = models
        featureCount = d
    }

    /// Fits one class: mean, covariance, top-`k` eigenpairs, residual variance.
    static func fitClass(_ x: [Float], rows n: Int, d: Int, components k: Int, using rng: inout some RandomNumberGenerator) -> ClassModel {
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += Double(x[i * d + j]) } }
        let meanF = mean.map { Float($0 / Double(n)) }
        var centered = x
        for i in 0..<n { for j in 0..<d { centered[i * d + j] -= meanF[j] } }
        var trace = 0.0
        for value in centered { trace += Double(value) * Double(value) }
        let denominator = Double(max(n - 1, 1))
        trace /= denominator
        guard k > 0 else {
            return ClassModel(mean: meanF, directions: [], variances: [], residualVariance: trace / Double(d), sampleCount: n)
        }
        var covariance = BLAS.matmulTransposingFirst(centered, centered, m: d, n: d, k: n)
        VectorMath.scale(&covariance, by: Float(1 / denominator))
        let width = min(d, k + 8)
        let start = rng.standardNormals(width * d)
        let (values, vectors) = Spectral.topEigen(covariance, d: d, count: k, start: start)
        let explained = values.reduce(0, +)
        let residual = max(trace - explained, 0) / Double(d - k)
        return ClassModel(mean: meanF, directions: vectors, variances: values, residualVariance: residual, sampleCount: n)
    }

    public func sample(count: Int, label: Int?, temperature: Double, using rng: inout some RandomNumberGenerator) throws(GeneratorError) -> LabeledSamples {
        guard temperature.isFinite, temperature >= 0 else { throw GeneratorError("gaussian-pca: temperature must be finite and ≥ 0, got \(temperature)") }
        let labels = try LabelPlan.labels(
            count: count, label: label, classCounts: classes.map { $0?.sampleCount ?? 0 }, fitted: classes.map { $0 != nil },
            generator: name, using: &rng)
        let d = featureCount
        var features = [Float](repeating: 0, count: count * d)
        let t = Float(temperature)
        features.withUnsafeMutableBufferPointer { out in
            for (row, label) in labels.enumerated() {
                let model = classes[Int(label)]!
                let z = rng.standardNormals(model.components)
                let target = out.baseAddress! + row * d
                model.mean.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: d) }
                model.directions.withUnsafeBufferPointer { directions in
                    for r in 0..<model.components {
                        let coefficient = Float(model.variances[r].squareRoot()) * z[r] * t
                        BLAS.saxpy(count: d, alpha: coefficient, x: directions.baseAddress! + r * d, y: target)
                    }
                }
                if residual {
                    let sigma = Float(model.residualVariance.squareRoot()) * t
                    let noise = rng.standardNormals(d)
                    noise.withUnsafeBufferPointer { BLAS.saxpy(count: d, alpha: sigma, x: $0.baseAddress!, y: target) }
                }
            }
        }
        LabelPlan.clip(&features)
        return LabeledSamples(features: features, labels: labels, featureCount: d, classCount: classes.count)
    }
}
