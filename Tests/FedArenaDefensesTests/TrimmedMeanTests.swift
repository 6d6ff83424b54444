import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct TrimmedMeanTests {
    @Test func dropsTheExtremesPerCoordinate() throws {
        let rule = try TrimmedMean(beta: 0.25)
        let result = try aggregate(rule, [[1, 40], [2, 30], [3, 20], [100, 10]])
        #expect(result.aggregate.values == [2.5, 25])
        #expect(weight(result, 0) == 0 && weight(result, 1) == 1 && weight(result, 2) == 1 && weight(result, 3) == 0)
    }

    @Test func betaZeroIsTheMean() throws {
        let result = try aggregate(try TrimmedMean(beta: 0), [[1], [2], [6]])
        #expect(result.aggregate.values == [3])
    }

    @Test func trimCountRoundsDown() throws {
        let rule = try TrimmedMean(beta: 0.2)
        #expect(rule.trimCount(inputCount: 9) == 1)
        #expect(rule.trimCount(inputCount: 10) == 2)
        #expect(rule.trimCount(inputCount: 100) == 20)
    }

    @Test(arguments: [-0.1, 0.5, 0.7, Double.nan])
    func impossibleBetaIsRejected(beta: Double) {
        #expect(throws: AggregationError.self) { try TrimmedMean(beta: beta) }
    }

    @Test func emptyRoundIsRejected() throws {
        #expect(throws: AggregationError.self) { try TrimmedMean(beta: 0.1).validate(inputCount: 0) }
    }

    @Test(arguments: [1, 4, 9])
    func conformance(inputCount: Int) throws {
        let rule = try TrimmedMean(beta: 0.25)
        AggregatorConformance(rule, inputCount: inputCount, robustTo: rule.trimCount(inputCount: inputCount)).verify()
    }
}
