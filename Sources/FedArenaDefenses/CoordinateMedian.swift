import FedArenaCore
import FedArenaNumerics

/// Coordinate-wise median: each coordinate of the result is the median of that coordinate
/// over the updates (the mean of the two middle values when `n` is even).
///
/// Yin, Chen, Ramchandran and Bartlett 2018, "Byzantine-Robust Distributed Learning: Towards
/// Optimal Statistical Rates", ICML. Tolerates any `f < n/2` outliers per coordinate.
///
/// YAML: `{kind: median}`. Weights: the share of coordinates at which the client's value was
/// (one of) the middle value(s), fractional under ties (see ``CoordinateWise``); they add up
/// to 1 for odd `n` and 2 for even `n`.
///
/// Trust weights: 0 excludes the update; a weight in (0, 1) counts as 1 (the plain, not a
/// weighted, median: a down-weighted update is still one vote per coordinate).
public struct CoordinateMedian: Aggregator {
    /// Creates the rule (it has no parameters).
    public init() {}

    /// `median`.
    public var name: String { "median" }

    /// Takes the coordinate-wise median.
    /// - Parameters:
    ///   - updates: at least one update of positive weight, finite.
    ///   - context: unused.
    ///   - rng: unused.
    /// - Returns: the median with per-client usage shares.
    /// - Throws: `.tooFewUpdates`, `.dimensionMismatch`, `.nonFinite`.
    public func aggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult {
        let batch = try UpdateBatch(updates, rule: name)
        let summary = batch.withRows { CoordinateWise.median($0) }
        if let bad = summary.nonFiniteRow { throw batch.nonFiniteError(rule: name, suspect: bad) }
        return AggregationResult(aggregate: ParameterVector(summary.values), weights: batch.weights(summary.usage))
    }
}
