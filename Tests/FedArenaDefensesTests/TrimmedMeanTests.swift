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

    /// ⌊βn⌋ is exact for the β written: β = 0.29, n = 100 trims 29 per side (binary64's
    /// 0.29 × 100 = 28.999999999999996 would trim 28). Rows i² for i = 0..<99: the kept values
    /// are 29²...70², mean Σ i² / 42 = 109,081 / 42 (trimming 28 would keep 44 values, mean
    /// 2,611.5).
    @Test func betaTimesNIsExact() throws {
        let rule = try TrimmedMean(beta: 0.29)
        #expect(rule.trimCount(inputCount: 100) == 29)
        let result = try aggregate(rule, (0..<100).map { [Float($0 * $0)] })
        #expect(abs(Double(result.aggregate.values[0]) - 109_081.0 / 42) < 1e-3)
        #expect(abs(result.weights.values.reduce(0, +) - 42) < 1e-9)
    }

    /// Trust weights: 0 excludes (n counts the others); a weight in (0, 1) counts as 1.
    @Test func weightsExcludeOrCountAsOne() throws {
        let rows: [[Float]] = [[1], [2], [3], [4], [100]]
        let rule = try TrimmedMean(beta: 0.2)
        #expect(try aggregate(rule, rows, weights: [0.3, 1, 0.5, 1, 0.9]) == (try aggregate(rule, rows)))
        // Without client 4: n = 4, trims 0 per side: the mean of 1...4.
        let excluded = try aggregate(rule, rows, weights: [1, 1, 1, 1, 0])
        #expect(excluded.aggregate.values == [2.5] && weight(excluded, 4) == 0)
    }
}
