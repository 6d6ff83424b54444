import FedArenaCore
import FedArenaNumerics

/// Nearest-neighbour mixing (NNM): replace each update by the mean of its `n − f` nearest
/// updates (itself included), before a robust rule.
///
/// Allouah, Farhadkhani, Guerraoui, Gupta, Pinot and Stephan 2023, "Fixing by Mixing: A Recipe
/// for Optimal Byzantine ML under Heterogeneity", AISTATS. Needs `n > f`.
///
/// YAML (inside `pre`): `{kind: nnm, f: 10}`. Distances come from one Gram matrix; ties go to
/// the lower ``ClientID``. Outputs keep the clients' identities; each output names its
/// `n − f` sources with coefficient `1/(n − f)`.
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
        _ updates: [ClientUpdate], context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> PreAggregation {
        try validate(inputCount: updates.count)
        let batch = try UpdateBatch(updates, rule: name)
        let n = batch.count
        let keep = n - f
        let distances = try KrumScoring.distances(batch, rule: name)
        var outputs = [ClientUpdate]()
        var sources = [ClientID: [ClientID: Double]]()
        let share = 1 / Double(keep)
        var mixing = [Float](repeating: 0, count: n * n)
        var scratch = [(Float, Int)]()
        for i in 0..<n {
            // Itself first (distance 0), then by distance and index.
            scratch = (0..<n).map { ($0 == i ? -1 : distances.squaredDistance(i, $0), $0) }
            scratch.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
            let neighbours = scratch.prefix(keep).map(\.1)
            for j in neighbours { mixing[i * n + j] = Float(share) }
            sources[batch.updates[i].client] = Dictionary(neighbours.map { (batch.updates[$0].client, share) }, uniquingKeysWith: +)
        }
        let mixed = batch.withRows { Statistics.mix($0, mixing: mixing, outputs: n) }
        for i in 0..<n {
            var update = batch.updates[i]
            update.delta = ParameterVector(mixed[i])
            outputs.append(update)
        }
        return PreAggregation(updates: outputs, sources: sources)
    }
}
