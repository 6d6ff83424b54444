import FedArenaNumerics
import Testing

@Suite struct NormalDistributionTests {
    /// References from Python's `statistics.NormalDist().inv_cdf` / `.cdf` (python3.11,
    /// Wichura's AS241), independent of the code under test.
    @Test(arguments: [
        (0.975, 1.9599639845400536), (0.5, 0.0), (0.01, -2.3263478740408408), (0.001, -3.090232306167813),
        (0.8, 0.8416212335729144), (1e-10, -6.361340902404056), (0.9999, 3.7190164854557084),
    ])
    func quantile(p: Double, expected: Double) {
        #expect(abs(NormalDistribution.quantile(p) - expected) <= 1e-12 * max(1, abs(expected)))
    }

    @Test func cdfAndUpperTail() {
        #expect(abs(NormalDistribution.cdf(1.959963984540054) - 0.975) < 1e-15)
        #expect(abs(NormalDistribution.cdf(-3) - 0.0013498980316301035) < 1e-17)
        #expect(NormalDistribution.cdf(0) == 0.5)
        #expect(abs(NormalDistribution.upperTail(3) - 0.0013498980316301035) < 1e-17)
    }
}
