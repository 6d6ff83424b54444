import FedArenaReports
import Testing

@Suite struct SeedStatisticsTests {
    /// numpy: x.mean(), x.std(ddof=1), mean ∓ t.ppf(0.975, n-1) * s / sqrt(n) (scipy 1.17.1).
    @Test func threeSeedsGiveTheStudentInterval() throws {
        let statistics = try #require(SeedStatistics([0.81, 0.79, 0.84]))
        #expect(statistics.count == 3)
        #expect(abs(statistics.mean - 0.8133333333333334) < 1e-15)
        #expect(abs(try #require(statistics.standardDeviation) - 0.025166114784235794) < 1e-15)
        let interval = try #require(statistics.interval)
        #expect(abs(interval.lowerBound - 0.7508172385395757) < 1e-10)
        #expect(abs(interval.upperBound - 0.875849428127091) < 1e-10)
    }

    @Test func twoSeedsUseTwelvePointSeven() throws {
        // s = 0.1 * sqrt(2); half width = 12.7062047... * s / sqrt(2) = 1.27062047...
        let statistics = try #require(SeedStatistics([0.5, 0.7]))
        let interval = try #require(statistics.interval)
        #expect(abs(interval.lowerBound - -0.6706204736174691) < 1e-10)
        #expect(abs(interval.upperBound - 1.870620473617469) < 1e-10)
    }

    @Test func oneValueHasNoSpreadAndNoValueIsNil() throws {
        let one = try #require(SeedStatistics([0.42, .nan]))
        #expect(one.count == 1 && one.mean == 0.42)
        #expect(one.standardDeviation == nil && one.interval == nil)
        #expect(SeedStatistics([]) == nil)
        #expect(SeedStatistics([.nan]) == nil)
    }
}
