import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct CoordinateMedianTests {
    @Test func oddCount() throws {
        let result = try aggregate(CoordinateMedian(), [[1, 10], [2, 30], [100, 20]])
        #expect(result.aggregate.values == [2, 20])
        #expect(weight(result, 0) == 0 && weight(result, 1) == 0.5 && weight(result, 2) == 0.5)
    }

    @Test func evenCountAveragesTheMiddle() throws {
        let result = try aggregate(CoordinateMedian(), [[4], [1], [3], [2]])
        #expect(result.aggregate.values == [2.5])
        #expect(weight(result, 2) == 1 && weight(result, 3) == 1 && weight(result, 0) == 0)
    }

    @Test func tiesShareTheWeight() throws {
        let result = try aggregate(CoordinateMedian(), [[5], [5], [5]])
        #expect(result.aggregate.values == [5])
        #expect(abs(weight(result, 0) - 1.0 / 3) < 1e-12)
    }

    @Test(arguments: [1, 2, 5, 9])
    func conformance(inputCount: Int) {
        AggregatorConformance(CoordinateMedian(), inputCount: inputCount, robustTo: (inputCount - 1) / 2).verify()
    }

    /// Trust weights: 0 excludes; a weight in (0, 1) counts as 1 (not a weighted median).
    @Test func weightsExcludeOrCountAsOne() throws {
        let rows: [[Float]] = [[1, 5], [2, 4], [9, 0]]
        #expect(try aggregate(CoordinateMedian(), rows, weights: [0.1, 1, 0.2]) == (try aggregate(CoordinateMedian(), rows)))
        let excluded = try aggregate(CoordinateMedian(), rows, weights: [1, 1, 0])
        #expect(excluded.aggregate.values == [1.5, 4.5])
    }
}
