import FedArenaCore
import FedArenaNumerics

/// Coordinate-wise trimmed mean: for each coordinate drop the `⌊βn⌋` largest and the `⌊βn⌋`
/// smallest values and average the rest.
///
/// Yin, Chen, Ramchandran and Bartlett 2018, "Byzantine-Robust Distributed Learning: Towards
/// Optimal Statistical Rates", ICML (β-trimmed mean, β < 1/2).
///
/// YAML: `{kind: trimmed-mean, beta: 0.1}`. Needs `2⌊βn⌋ < n`; `⌊βn⌋` is exact for the
/// decimal `β` written (``FractionalCount``: `β = 0.29`, `n = 100` trims 29). Weights: the
/// share of coordinates at which the client's value was kept (fractional under ties); they add
/// up to `n − 2⌊βn⌋`.
///
/// Trust weights: 0 excludes the update (and `n` counts the others); a weight in (0, 1) counts
/// as 1 (the trimming is by rank).
public struct TrimmedMean: Aggregator {
    /// The fraction trimmed from each side, in `[0, 0.5)`.
    public var beta: Double

    /// Creates the rule.
    /// - Parameter beta: the fraction trimmed from each side.
    /// - Throws: `.invalidConfiguration` unless `0 <= beta < 0.5`.
    public init(beta: Double) throws(AggregationError) {
        guard beta.isFinite, beta >= 0, beta < 0.5 else {
            throw AggregationError(.invalidConfiguration, "trimmed-mean needs 0 <= beta < 0.5, got beta = \(beta)")
        }
        self.beta = beta
    }

    /// `trimmed-mean`.
    public var name: String { "trimmed-mean" }

    /// The number of values trimmed from each side in a round of `n`: `⌊βn⌋`.
    public func trimCount(inputCount n: Int) -> Int { FractionalCount.floor(beta, of: n) }

    /// Needs `2⌊βn⌋ < n`.
    public func validate(inputCount: Int) throws(AggregationError) {
        let k = trimCount(inputCount: inputCount)
        if inputCount < 1 || 2 * k >= inputCount {
            throw AggregationError(
                .tooFewUpdates,
                "trimmed-mean needs 2⌊βn⌋ < n, got n = \(inputCount), beta = \(beta) (trims \(k) per side)")
        }
    }

    /// Takes the coordinate-wise trimmed mean.
    /// - Throws: `.tooFewUpdates`, `.dimensionMismatch`, `.nonFinite`.
    public func aggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult {
        try validate(inputCount: updates.activeCount)
        let batch = try UpdateBatch(updates, rule: name)
        let trim = trimCount(inputCount: batch.count)
        let summary = batch.withRows { CoordinateWise.trimmedMean($0, trim: trim) }
        if let bad = summary.nonFiniteRow { throw batch.nonFiniteError(rule: name, suspect: bad) }
        return AggregationResult(aggregate: ParameterVector(summary.values), weights: batch.weights(summary.usage))
    }
}
