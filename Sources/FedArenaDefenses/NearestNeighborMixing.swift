import FedArenaCore
import FedArenaNumerics

/// Nearest-neighbour mixing (NNM): replace each update by the mean of its `n − f` nearest
/// updates (itself included), before a robust rule.
///
/// Allouah, Farhadkhani, Guerraoui, Gupta, Pinot and Stephan 2023, "Fixing by Mixing: A Recipe
/// for Optimal Byzantine ML under Heterogeneity", AISTATS. Needs `n > f`.
///
/// YAML (inside `pre`): `{kind: nnm, f: 10}`. Distances come from ``PairwiseDistances`` and
/// each neighbourhood is certified float64-exact at its boundary; ties go to the lower
/// ``ClientID``. Outputs keep the clients' identities, sample counts and trust weights; each
/// output names its `n − f` sources with coefficient `1/(n − f)`.
///
/// Trust weights: 0 excludes the update (it is nobody's neighbour); the mixing itself is the
/// paper's plain mean, and each output carries its own client's weight to the rule.
public struct NearestNeighborMixing: PreAggregator {
    /// The assumed number of Byzantine updates.
    public var f: Int

    /// Creates the stage.
    /// - Parameter f: `>= 0`.
    /// - Throws: `.invalidConfiguration` when `f < 0`.
    public init(f: Int) throws(AggregationError) {
        guard f >= 0 else { throw AggregationError(.invalidConfiguration, "nnm needs f >= 0, got f = \(f)") }
        self.f = f
    }

    /// `nnm`.
    public var name: String { "nnm" }

    /// Needs `n > f`.
    public func validate(inputCount: Int) throws(AggregationError) {
        if inputCount <= f {
            throw AggregationError(.tooFewUpdates, "nnm needs n > f, got n = \(inputCount), f = \(f)")
        }
    }

    /// Mixes each update with its nearest neighbours.
    /// - Throws: `.tooFewUpdates`, `.dimensionMismatch`, `.nonFinite`.
    public func preAggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> PreAggregation {
        try validate(inputCount: updates.activeCount)
        let batch = try UpdateBatch(updates, rule: name)
        let n = batch.count
        let keep = n - f
        var distances = try batch.distances(rule: name)
        var sources = [ClientID: [ClientID: Double]]()
        let share = 1 / Double(keep)
        var mixing = [Float](repeating: 0, count: n * n)
        let mixed = batch.withRows { rows in
            for i in 0..<n {
                // Itself first, then by distance and index.
                let neighbours = distances.nearest(to: i, count: keep, using: rows)
                for j in neighbours { mixing[i * n + j] = Float(share) }
                sources[batch.client(i)] = Dictionary(neighbours.map { (batch.client($0), share) }, uniquingKeysWith: +)
            }
            return Statistics.mix(rows, mixing: mixing, outputs: n)
        }
        var outputs = UpdateMatrix(dimension: batch.dimension, round: updates.round, reservingCapacity: n)
        for i in 0..<n {
            try outputs.append(client: batch.client(i), sampleCount: batch.sampleCounts[i], weight: batch.trust[i], row: mixed[i])
        }
        return PreAggregation(updates: outputs, sources: sources)
    }
}
