import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct NormBoundTests {
    @Test func clipsThenAverages() throws {
        let result = try aggregate(try NormBound(maxNorm: 1), [[3, 4], [0, 1]])
        #expect(close(result.aggregate.values, [0.3, 0.9]))
        #expect(weight(result, 0) == 0.5)
    }

    @Test func weightsBySampleCount() throws {
        let result = try aggregate(try NormBound(maxNorm: 10), [[1, 0], [0, 1]], counts: [3, 1])
        #expect(close(result.aggregate.values, [0.75, 0.25]))
    }

    @Test func invalidBound() {
        #expect(throws: AggregationError.self) { try NormBound(maxNorm: 0) }
    }

    @Test func conformance() throws {
        AggregatorConformance(try NormBound(maxNorm: 3), inputCount: 9, robustTo: 2).verify()
    }

    /// Trust weights multiply the sample-count weights, as in FedAvg.
    @Test func trustWeightsMultiplyTheSampleWeights() throws {
        let rule = try NormBound(maxNorm: 2)
        let rows: [[Float]] = [[3, 4], [0, 1], [1, 1]]
        #expect(try aggregate(rule, rows, counts: [10, 10, 10], weights: [0.5, 1, 0.25]) == (try aggregate(rule, rows, counts: [5, 10, 10], weights: [1, 1, 0.25])))
        let excluded = try aggregate(rule, rows, weights: [0, 1, 1])
        #expect(close(excluded.aggregate.values, [0.5, 1]) && weight(excluded, 0) == 0)
    }
}
