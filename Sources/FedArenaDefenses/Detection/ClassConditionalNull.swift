/// A per-class null distribution of a per-sample statistic on held-out real samples, and the z
/// of a client's summed statistic against it: what `label-consistency` (the cross-entropy of the
/// given labels) and `audit-c2st`'s `statistic: z` (the synthetic probability) both judge with.
///
/// From the held-out values of class `c`: mean `μ_c`, variance `σ²_c` (floored at
/// `varianceFloor`) and count `m_c`; a class with fewer than 2 values takes the pooled ones. For
/// a client with `n_c` samples of class `c`,
/// `z = Σ_i (x_i − μ_{y_i}) / √(Σ_c n_c σ²_c + Σ_c n_c² σ²_c / m_c)`: the second term is the
/// uncertainty of the estimated `μ_c`, which dominates for a client with many samples of a class
/// held out only `m_c` times. `z` is then roughly standard normal for real samples whatever
/// their class mix.
struct ClassConditionalNull: Sendable {
    /// `μ_c`.
    let mean: [Double]
    /// `σ²_c`.
    let variance: [Double]
    /// `m_c`, the held-out values behind `μ_c`.
    let counts: [Int]

    /// Estimates the null from the held-out values of each class (`held[c]`).
    init(held: [[Double]], varianceFloor: Double) {
        func moments(_ values: [Double]) -> (Double, Double) {
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, values.count - 1))
            return (mean, max(variance, varianceFloor))
        }
        let pooled = held.flatMap { $0 }
        let pooledMoments = pooled.count >= 2 ? moments(pooled) : (0, 1)
        let perClass = held.map { $0.count >= 2 ? moments($0) : pooledMoments }
        mean = perClass.map(\.0)
        variance = perClass.map(\.1)
        counts = held.map { $0.count >= 2 ? $0.count : max(pooled.count, 1) }
    }

    /// The z of one client's values, `labels[i]` the class of `values[i]` (in `0..<mean.count`).
    func z(_ values: [Double], labels: [Int32]) -> Double {
        var excess = 0.0
        var perClass = [Int](repeating: 0, count: mean.count)
        for (value, label) in zip(values, labels) {
            excess += value - mean[Int(label)]
            perClass[Int(label)] += 1
        }
        var variance = 0.0
        for (c, n) in perClass.enumerated() where n > 0 {
            variance += Double(n) * self.variance[c] + Double(n * n) * self.variance[c] / Double(counts[c])
        }
        return excess / variance.squareRoot()
    }
}
