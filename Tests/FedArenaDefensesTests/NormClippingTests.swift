import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct NormClippingTests {
    @Test func clipsOnlyLongUpdates() throws {
        var rng = SeededGenerator(seed: 1)
        let output = try NormClipping(tau: 1).preAggregate(makeUpdates([[3, 4], [0.5, 0]]), context: makeContext(dimension: 2), using: &rng)
        #expect(close(output.updates.updates[0].delta.values, [0.6, 0.8]))
        #expect(output.updates.updates[1].delta.values == [0.5, 0])
        #expect(output.sources[ClientID(0)] == [ClientID(0): 1])
    }

    @Test func chainsInFrontOfARule() throws {
        let rule = PreAggregatedRule(stages: [try NormClipping(tau: 1), try NearestNeighborMixing(f: 0)], rule: FedAvg())
        let result = try aggregate(rule, [[3, 4], [0, 0]])
        #expect(close(result.aggregate.values, [0.3, 0.4]))
        #expect(rule.name == "clip+nnm+fedavg")
    }

    @Test func invalidTau() {
        #expect(throws: AggregationError.self) { try NormClipping(tau: -1) }
    }

    @Test func conformance() throws {
        AggregatorConformance(PreAggregatedRule(stages: [try NormClipping(tau: 3)], rule: FedAvg()), inputCount: 5).verify()
    }

    /// Trust weights and sample counts pass through; 0 excludes.
    @Test func weightsPassThrough() throws {
        var rng = SeededGenerator(seed: 1)
        let output = try NormClipping(tau: 1).preAggregate(
            makeUpdates([[3, 4], [0.5, 0], [1, 1]], counts: [5, 6, 7], weights: [0.5, 1, 0]), context: makeContext(dimension: 2), using: &rng)
        #expect(output.updates.clients == [ClientID(0), ClientID(1)])
        #expect(output.updates.weights == [0.5, 1] && output.updates.sampleCounts == [5, 6])
    }
}
