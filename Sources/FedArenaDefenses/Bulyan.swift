import FedArenaCore
import FedArenaNumerics

/// Bulyan: select `θ = n − 2f` updates by repeated Krum, then for each coordinate average the
/// `β = θ − 2f` selected values closest to that coordinate's median.
///
/// El Mhamdi, Guerraoui and Rouault 2018, "The Hidden Vulnerability of Distributed Learning in
/// Byzantium", ICML. Needs `n >= 4f + 3`.
///
/// YAML: `{kind: bulyan, f: 5}`. The repeated Krum runs on one ``PairwiseDistances`` (a
/// float64 Gram matrix: θ decisions in a row would leave single-precision bounds open) and
/// updates the scores incrementally (``KrumScoring/repeatedSelection(_:rows:f:count:)``, float64-
/// exact, ties to the lower ``ClientID``). In the second phase the `β` values closest to the
/// median are a window of consecutive sorted values; when two windows are equally close (a tie
/// at the boundary) the lower one is taken. Weights: for selected clients, the share of
/// coordinates at which their value was among the `β` averaged (fractional under ties); they
/// add up to `β`. Clients not selected get 0.
///
/// Trust weights: 0 excludes the update; a weight in (0, 1) counts as 1 (both phases are
/// rank-based and take no weights).
public struct Bulyan: Aggregator {
    /// The number of Byzantine updates tolerated.
    public var f: Int

    /// Creates the rule.
    /// - Parameter f: the assumed number of Byzantine updates, `>= 0`.
    /// - Throws: `.invalidConfiguration` when `f < 0`.
    public init(f: Int) throws(AggregationError) {
        guard f >= 0 else { throw AggregationError(.invalidConfiguration, "bulyan needs f >= 0, got f = \(f)") }
        self.f = f
    }

    /// `bulyan`.
    public var name: String { "bulyan" }

    /// Needs `n >= 4f + 3`.
    public func validate(inputCount: Int) throws(AggregationError) {
        if inputCount < 4 * f + 3 {
            throw AggregationError(
                .tooFewUpdates, "bulyan needs n >= 4f + 3, got n = \(inputCount), f = \(f) (4f + 3 = \(4 * f + 3))")
        }
    }

    /// Runs both phases.
    /// - Throws: `.tooFewUpdates`, `.dimensionMismatch`, `.nonFinite`.
    public func aggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult {
        try validate(inputCount: updates.activeCount)
        let batch = try UpdateBatch(updates, rule: name)
        // θ decisions in a row: a float64 Gram matrix leaves almost none of them to refine.
        var distances = try batch.distances(rule: name, precision: .double)
        let theta = batch.count - 2 * f
        let beta = theta - 2 * f
        let selected = batch.withRows { rows in KrumScoring.repeatedSelection(&distances, rows: rows, f: f, count: theta) }.sorted()
        let summary = batch.withRows(selected) { CoordinateWise.meanAroundMedian($0, keep: beta) }
        if let bad = summary.nonFiniteRow { throw batch.nonFiniteError(rule: name, suspect: selected[bad]) }
        var weights = [Double](repeating: 0, count: batch.count)
        for (place, index) in selected.enumerated() { weights[index] = summary.usage[place] }
        return AggregationResult(aggregate: ParameterVector(summary.values), weights: batch.weights(weights))
    }
}
