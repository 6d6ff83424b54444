import Foundation

/// Mean, sample standard deviation and a Student-t confidence interval of one metric over the
/// seeds of a sweep cell group.
///
/// With n values x₁…xₙ: mean x̄, s² = Σ(xᵢ − x̄)² / (n − 1), and the interval
/// x̄ ± t₍₁₊ₗ₎/₂,ₙ₋₁ · s / √n (Student 1908), the usual small-sample interval for the mean of
/// normally distributed results. With one value the deviation and interval are undefined.
public struct SeedStatistics: Sendable, Equatable {
    /// The number of values.
    public var count: Int
    /// The mean.
    public var mean: Double
    /// The sample standard deviation (n − 1 in the denominator), `nil` for one value.
    public var standardDeviation: Double?
    /// The confidence interval of the mean, `nil` for one value.
    public var interval: ClosedRange<Double>?
    /// The interval's confidence level.
    public var level: Double

    /// Summarises `values`.
    /// - Parameters:
    ///   - values: the per-seed results (non-finite values are ignored).
    ///   - level: the confidence level, default 0.95.
    /// - Returns: `nil` when no finite value is given.
    public init?(_ values: [Double], level: Double = 0.95) {
        let finite = values.filter(\.isFinite)
        guard !finite.isEmpty else { return nil }
        let n = Double(finite.count)
        count = finite.count
        self.level = level
        mean = finite.reduce(0, +) / n
        guard finite.count >= 2 else {
            standardDeviation = nil
            interval = nil
            return
        }
        let mean = self.mean
        let variance = finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        let deviation = variance.squareRoot()
        standardDeviation = deviation
        let half = StudentT(degreesOfFreedom: n - 1).critical(level: level) * deviation / n.squareRoot()
        interval = (mean - half)...(mean + half)
    }
}
