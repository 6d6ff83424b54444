import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct NearestNeighborMixingTests {
    @Test func mixesWithTheNearestAndAttributesWeights() throws {
        // n = 3, f = 1: each update becomes the mean of itself and its nearest neighbour:
        // 0 -> (0 + 1)/2, 1 -> (1 + 0)/2, 10 -> (10 + 1)/2; then the plain mean.
        let rule = PreAggregatedRule(stages: [try NearestNeighborMixing(f: 1)], rule: FedAvg(weighted: false))
        let result = try aggregate(rule, [[0], [1], [10]])
        #expect(close(result.aggregate.values, [6.5 / 3]))
        #expect(abs(weight(result, 0) - 1.0 / 3) < 1e-12)
        #expect(abs(weight(result, 1) - 0.5) < 1e-12)
        #expect(abs(weight(result, 2) - 1.0 / 6) < 1e-12)
        #expect(rule.name == "nnm+fedavg")
    }

    @Test func stageOutputKeepsClients() throws {
        var rng = SeededGenerator(seed: 1)
        let output = try NearestNeighborMixing(f: 1).preAggregate(makeUpdates([[0], [1], [10]]), context: makeContext(dimension: 1), using: &rng)
        #expect(output.updates.map(\.client) == [0, 1, 2].map(ClientID.init))
        #expect(output.updates.map(\.delta.values) == [[0.5], [0.5], [5.5]])
        #expect(output.sources[ClientID(2)] == [ClientID(2): 0.5, ClientID(1): 0.5])
    }

    @Test func needsMoreUpdatesThanF() {
        #expect(throws: AggregationError.self) { try NearestNeighborMixing(f: 3).validate(inputCount: 3) }
        #expect(throws: AggregationError.self) { try NearestNeighborMixing(f: -1) }
    }

    @Test func conformanceInFrontOfKrum() throws {
        let rule = PreAggregatedRule(stages: [try NearestNeighborMixing(f: 2)], rule: try Krum(f: 2))
        AggregatorConformance(rule, inputCount: 9, robustTo: 2).verify()
    }
}
