import FedArenaCore
import FedArenaNumerics

/// Bucketing: shuffle the updates with the round's seeded generator, split them into buckets
/// of `s` (the last may be smaller) and replace each bucket by its mean, before a robust rule.
///
/// Karimireddy, He and Jaggi 2022, "Byzantine-Robust Learning on Heterogeneous Datasets via
/// Bucketing", ICLR. `⌈n/s⌉` updates come out.
///
/// YAML (inside `pre`): `{kind: bucketing, s: 2}`. The shuffle runs over the canonical (client)
/// order, so it does not depend on arrival order. Outputs are synthetic clients numbered by
/// bucket (`ClientID(0..<⌈n/s⌉)`) carrying the bucket's total sample count; each names its
/// members with coefficient `1/|bucket|`, so a client's final weight is its bucket's weight
/// divided by the bucket's size. Stateful rules (FoolsGold) see bucket numbers, not clients.
///
/// Trust weights: 0 excludes the update before the shuffle; with weights in (0, 1) a bucket is
/// the weighted mean `Σ w_i Δ_i / Σ w_i` of its members and carries their mean weight.
public struct Bucketing: PreAggregator {
    /// The bucket size `s >= 1`.
    public var bucketSize: Int

    /// Creates the stage.
    /// - Parameter bucketSize: `s >= 1`.
    /// - Throws: `.invalidConfiguration` when `s < 1`.
    public init(bucketSize: Int) throws(AggregationError) {
        guard bucketSize >= 1 else { throw AggregationError(.invalidConfiguration, "bucketing needs s >= 1, got s = \(bucketSize)") }
        self.bucketSize = bucketSize
    }

    /// `bucketing`.
    public var name: String { "bucketing" }

    /// `⌈n/s⌉`.
    public func outputCount(inputCount: Int) -> Int { (inputCount + bucketSize - 1) / bucketSize }

    /// Shuffles and averages each bucket.
    /// - Throws: `.tooFewUpdates`, `.dimensionMismatch`, `.nonFinite`.
    public func preAggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> PreAggregation {
        try validate(inputCount: updates.activeCount)
        let batch = try UpdateBatch(updates, rule: name)
        let n = batch.count
        let order = rng.shuffledIndices(n)
        var outputs = UpdateMatrix(dimension: batch.dimension, round: updates.round, reservingCapacity: outputCount(inputCount: n))
        var sources = [ClientID: [ClientID: Double]]()
        let trust = batch.trust
        let counts = batch.sampleCounts
        let result: Result<Void, AggregationError> = batch.withRows { rows in
            var start = 0
            while start < n {
                let members = Array(order[start..<min(n, start + bucketSize)])
                let memberTrust = members.reduce(0) { $0 + trust[$1] }
                var coefficients = [Float](repeating: 0, count: n)
                for member in members { coefficients[member] = Float(trust[member] / memberTrust) }
                let mean = Statistics.linearCombination(rows, coefficients: coefficients)
                if !Statistics.allFinite(mean) {
                    return .failure(batch.nonFiniteError(rule: name, suspect: members.first { !batch.matrix.rowIsFinite(batch.active[$0]) }))
                }
                let id = ClientID(outputs.count)
                do throws(AggregationError) {
                    try outputs.append(
                        client: id, sampleCount: members.reduce(0) { $0 + counts[$1] }, weight: memberTrust / Double(members.count), row: mean)
                } catch {
                    return .failure(error)
                }
                sources[id] = Dictionary(members.map { (batch.client($0), 1 / Double(members.count)) }, uniquingKeysWith: +)
                start += bucketSize
            }
            return .success(())
        }
        try result.get()
        return PreAggregation(updates: outputs, sources: sources)
    }
}
