import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct BucketingTests {
    @Test func bucketsPartitionTheClients() throws {
        var rng = SeededGenerator(seed: 4)
        let updates = makeUpdates([[1], [2], [3], [4], [5]])
        let output = try Bucketing(bucketSize: 2).preAggregate(updates, context: makeContext(dimension: 1), using: &rng)
        #expect(output.updates.count == 3)
        #expect(output.updates.updates.map(\.client) == [0, 1, 2].map(ClientID.init))
        let members = output.sources.values.flatMap(\.keys)
        #expect(members.sorted() == (0..<5).map(ClientID.init))
        for update in output.updates.updates {
            let parts = output.sources[update.client]!
            let mean = parts.keys.map { Float($0.rawValue + 1) }.reduce(0, +) / Float(parts.count)
            #expect(update.delta.values == [mean])
            #expect(update.sampleCount == 10 * parts.count)
        }
    }

    @Test func weightsReachTheOriginalClients() throws {
        let rule = PreAggregatedRule(stages: [try Bucketing(bucketSize: 2)], rule: FedAvg())
        let result = try aggregate(rule, [[1], [2], [3], [6]])
        #expect(close(result.aggregate.values, [3]))
        #expect(result.weights.count == 4 && result.weights.values.allSatisfy { abs($0 - 0.25) < 1e-12 })
        #expect(throws: Never.self) { try rule.validate(inputCount: 4) }
    }

    @Test func outputCountAndBounds() throws {
        #expect(try Bucketing(bucketSize: 3).outputCount(inputCount: 10) == 4)
        #expect(throws: AggregationError.self) { try Bucketing(bucketSize: 0) }
        // Buckets of 2 leave 4 inputs for Krum(f = 1), which needs more than 4.
        let rule = PreAggregatedRule(stages: [try Bucketing(bucketSize: 2)], rule: try Krum(f: 1))
        #expect(throws: AggregationError.self) { try rule.validate(inputCount: 8) }
        #expect(throws: Never.self) { try rule.validate(inputCount: 9) }
    }

    @Test func conformanceInFrontOfMedian() throws {
        let rule = PreAggregatedRule(stages: [try Bucketing(bucketSize: 2)], rule: CoordinateMedian())
        AggregatorConformance(rule, inputCount: 9, robustTo: 1).verify()
    }

    /// Trust weights: a bucket is the weighted mean of its members and carries their mean
    /// weight; 0 excludes before the shuffle.
    @Test func bucketsWeighTheirMembers() throws {
        var rng = SeededGenerator(seed: 4)
        let output = try Bucketing(bucketSize: 2).preAggregate(
            makeUpdates([[1], [3], [7]], weights: [1, 0.5, 0]), context: makeContext(dimension: 1), using: &rng)
        #expect(output.updates.count == 1 && output.updates.weights == [0.75])
        #expect(abs(output.updates.updates[0].delta.values[0] - Float(2.5 / 1.5)) < 1e-6)
        #expect(output.sources[ClientID(0)] == [ClientID(0): 0.5, ClientID(1): 0.5])
    }
}
