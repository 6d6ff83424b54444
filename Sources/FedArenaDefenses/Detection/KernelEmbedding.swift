import FedArenaCore
import FedArenaNumerics
import Foundation

/// The random-feature picture of a labelled reference set (the root set, or the offline
/// reference): every sample's features, per-class means, within-class kernel statistics and a
/// subsampling null for the distance of a class mean to the reference's. Shared by
/// ``SketchMMD`` and ``OfflineDetection``.
///
/// With `φ` the features of ``RandomFourierFeatures`` (`k̂(x, y) = φ(x)·φ(y)`) and a class of
/// `m` samples:
/// - `selfMean = (1/m) Σ ‖φ_j‖²` (≈ 1);
/// - `kernelMean = (‖Σ φ_j‖² − Σ ‖φ_j‖²) / (m (m − 1))`, the unbiased mean of `k̂` over
///   distinct pairs (Gretton et al. 2012's within-sample U-statistic term);
/// - `kernelVariance = selfMean − kernelMean = E‖φ(X) − E φ(X)‖²`, the spread in feature space,
///   which model collapse shrinks (Shumailov et al. 2024, Nature 631: recursively generated data
///   lose the tails and concentrate).
struct KernelEmbedding {
    let map: RandomFourierFeatures
    let classCount: Int
    /// `m x D` features of every sample.
    let features: [Float]
    let labels: [Int32]
    /// Sample indices per class.
    let members: [[Int]]
    /// `C x D` class means.
    let means: [Float]
    let selfMean: [Double]
    let kernelMean: [Double]
    /// Leave-one-out density of each sample under its own class, `(Σ_{i≠j} k̂(x_i, x_j)) / (m − 1)`.
    let looDensity: [Double]

    var dimension: Int { map.dimension }

    init(samples: LabeledSamples, map: RandomFourierFeatures) {
        self.map = map
        classCount = samples.classCount
        labels = samples.labels
        let phiValues = map.transform(samples.features, rows: samples.count)
        features = phiValues
        let classCount = samples.classCount
        let d = map.dimension
        var members = [[Int]](repeating: [], count: samples.classCount)
        for (index, label) in samples.labels.enumerated() where label >= 0 && Int(label) < samples.classCount {
            members[Int(label)].append(index)
        }
        self.members = members
        var means = [Float](repeating: 0, count: classCount * d)
        var selfMean = [Double](repeating: 1, count: classCount)
        var kernelMean = [Double](repeating: .nan, count: classCount)
        var loo = [Double](repeating: .nan, count: samples.count)
        phiValues.withUnsafeBufferPointer { phi in
            for c in 0..<classCount where !members[c].isEmpty {
                var sum = [Double](repeating: 0, count: d)
                var selfSum = 0.0
                var selfNorms = [Double]()
                for j in members[c] {
                    let row = UnsafeBufferPointer(rebasing: phi[(j * d)..<((j + 1) * d)])
                    var norm = 0.0
                    for k in 0..<d { sum[k] += Double(row[k]); norm += Double(row[k]) * Double(row[k]) }
                    selfSum += norm
                    selfNorms.append(norm)
                }
                let m = Double(members[c].count)
                for k in 0..<d { means[c * d + k] = Float(sum[k] / m) }
                selfMean[c] = selfSum / m
                let total = sum.reduce(0) { $0 + $1 * $1 }
                if members[c].count >= 2 {
                    kernelMean[c] = (total - selfSum) / (m * (m - 1))
                    for (position, j) in members[c].enumerated() {
                        let row = UnsafeBufferPointer(rebasing: phi[(j * d)..<((j + 1) * d)])
                        var dot = 0.0
                        for k in 0..<d { dot += sum[k] * Double(row[k]) }
                        loo[j] = (dot - selfNorms[position]) / (m - 1)
                    }
                }
            }
        }
        self.means = means
        self.selfMean = selfMean
        self.kernelMean = kernelMean
        looDensity = loo
    }

    func count(_ c: Int) -> Int { members[c].count }

    func mean(_ c: Int) -> ArraySlice<Float> { means[(c * dimension)..<((c + 1) * dimension)] }

    func kernelVariance(_ c: Int) -> Double { selfMean[c] - kernelMean[c] }

    /// The within-class kernel mean and variance implied by the (noisy) mean `embedding` of `n`
    /// samples: `‖μ‖² − D σ²` removes the noise's expected contribution, then
    /// `k̄ = (n ‖μ‖² − s̄) / (n − 1)` with `s̄` the reference's `selfMean` (`E‖φ‖²` does not depend
    /// on the distribution much: it is 1 up to `O(1/√D)`).
    func spread(of embedding: ArraySlice<Float>, count n: Int, noiseVariance: Double, classIndex c: Int) -> (kernelMean: Double, variance: Double)? {
        guard n >= 2 else { return nil }
        var squared = 0.0
        for value in embedding { squared += Double(value) * Double(value) }
        squared -= Double(dimension) * noiseVariance
        let s = selfMean[c]
        let kbar = (Double(n) * squared - s) / Double(n - 1)
        return (kbar, s - kbar)
    }

    /// Null draws of the squared distance between the means of two disjoint halves of class `c`
    /// (`⌊m/2⌋` against the rest): `draws x D` difference vectors, one `sgemm`.
    func splitDifferences(_ c: Int, draws: Int, using rng: inout some RandomNumberGenerator) -> (differences: [Float], half: Int)? {
        let m = members[c].count
        guard m >= 4, draws > 0 else { return nil }
        let d = dimension
        let half = m / 2
        var classFeatures = [Float](repeating: 0, count: m * d)
        for (row, j) in members[c].enumerated() {
            for k in 0..<d { classFeatures[row * d + k] = features[j * d + k] }
        }
        var coefficients = [Float](repeating: 0, count: draws * m)
        var order = Array(0..<m)
        for b in 0..<draws {
            rng.shuffle(&order)
            for (position, index) in order.enumerated() {
                coefficients[b * m + index] = position < half ? Float(1.0 / Double(half)) : Float(-1.0 / Double(m - half))
            }
        }
        return (BLAS.matmul(coefficients, classFeatures, m: draws, k: m, n: d), half)
    }
}
