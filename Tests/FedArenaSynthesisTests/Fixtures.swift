import FedArenaCore
import FedArenaNumerics

/// Small synthetic data sets for the synthesis tests (tiny dimensions: debug builds are slow).
enum Fixtures {
    /// `perClass` samples of each of `classes` classes in `d` dimensions: class mean
    /// `0.3 + 0.4 · c / classes` plus `Σ_j a_j · scales[j] · u_j` along fixed orthonormal
    /// directions `u_j` (the first coordinates of a rotated basis) plus `noise` iid noise.
    static func lowRank(
        classes: Int = 2, perClass: Int = 60, d: Int = 12, scales: [Double] = [0.12, 0.06], noise: Double = 0.002,
        seed: UInt64 = 1
    ) -> (samples: LabeledSamples, directions: [[Double]]) {
        // Fixed orthonormal directions (the same for every seed) from Gram-Schmidt on random vectors.
        var directionRng = SeededGenerator(seed: 1000)
        var rng = SeededGenerator(seed: seed)
        var directions = [[Double]]()
        for _ in scales.indices {
            var v = (0..<d).map { _ in directionRng.normal() }
            for u in directions {
                let dot = zip(v, u).reduce(0) { $0 + $1.0 * $1.1 }
                v = zip(v, u).map { $0 - dot * $1 }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            directions.append(v.map { $0 / norm })
        }
        var features = [Float]()
        var labels = [Int32]()
        for c in 0..<classes {
            for _ in 0..<perClass {
                var x = [Double](repeating: 0.3 + 0.4 * Double(c) / Double(classes), count: d)
                for (j, u) in directions.enumerated() {
                    let a = rng.normal() * scales[j]
                    for i in 0..<d { x[i] += a * u[i] }
                }
                for i in 0..<d { x[i] += rng.normal() * noise }
                features += x.map { Float($0) }
                labels.append(Int32(c))
            }
        }
        return (LabeledSamples(features: features, labels: labels, featureCount: d, classCount: classes), directions)
    }

    /// Uniform noise in [0, 1], `count` samples of `d` features, labels cycling over `classes`.
    static func noise(count: Int, d: Int, classes: Int, seed: UInt64) -> LabeledSamples {
        var rng = SeededGenerator(seed: seed)
        let features = (0..<(count * d)).map { _ in Float(rng.unitDouble()) }
        let labels = (0..<count).map { Int32($0 % classes) }
        return LabeledSamples(features: features, labels: labels, featureCount: d, classCount: classes)
    }

    /// Per-class mean per-feature variance (the trace of the class covariance over `d`).
    static func classVariance(_ samples: LabeledSamples, label: Int) -> Double {
        let d = samples.featureCount
        let rows = samples.labels.indices.filter { Int(samples.labels[$0]) == label }
        var mean = [Double](repeating: 0, count: d)
        for r in rows { for j in 0..<d { mean[j] += Double(samples.features[r * d + j]) } }
        mean = mean.map { $0 / Double(rows.count) }
        var total = 0.0
        for r in rows { for j in 0..<d { let e = Double(samples.features[r * d + j]) - mean[j]; total += e * e } }
        return total / Double(rows.count - 1) / Double(d)
    }
}
