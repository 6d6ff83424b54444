import FedArenaReports
import Foundation
import Testing

@Suite struct StudentTTests {
    /// Closed forms: ν = 1 is the Cauchy distribution, t = tan(π(p − ½)); ν = 2 has
    /// F(t) = ½ + t / (2√(t² + 2)), so t = (2p − 1) √(2 / (1 − (2p − 1)²)).
    @Test(arguments: [0.6, 0.9, 0.975, 0.995])
    func quantilesMatchTheClosedFormsOfOneAndTwoDegrees(p: Double) {
        let cauchy = tan(Double.pi * (p - 0.5))
        #expect(abs(StudentT(degreesOfFreedom: 1).quantile(p) - cauchy) <= 1e-9 * max(1, cauchy))
        let u = 2 * p - 1
        let two = u * (2 / (1 - u * u)).squareRoot()
        #expect(abs(StudentT(degreesOfFreedom: 2).quantile(p) - two) <= 1e-9 * max(1, two))
    }

    /// scipy.stats.t.ppf(0.975, df) (scipy 1.17.1).
    @Test(arguments: [
        (3.0, 3.1824463052837078), (4.0, 2.7764451051977934), (5.0, 2.5705818356363146),
        (9.0, 2.262157162798205), (29.0, 2.045229642132703), (100.0, 1.9839715185235518),
    ])
    func criticalValuesMatchScipy(degrees: Double, expected: Double) {
        #expect(abs(StudentT(degreesOfFreedom: degrees).critical(level: 0.95) - expected) < 1e-9)
    }

    /// scipy.stats.t.cdf(1.5, 3), t.cdf(-0.7, 7), t.ppf(0.9, 4.5) (scipy 1.17.1).
    @Test func cdfAndFractionalDegreesMatchScipy() {
        #expect(abs(StudentT(degreesOfFreedom: 3).cdf(1.5) - 0.8847080673775886) < 1e-12)
        #expect(abs(StudentT(degreesOfFreedom: 7).cdf(-0.7) - 0.2532587760978) < 1e-12)
        #expect(abs(StudentT(degreesOfFreedom: 4.5).quantile(0.9) - 1.5008853175085577) < 1e-9)
        #expect(StudentT(degreesOfFreedom: 3).quantile(0.5) == 0)
        #expect(StudentT(degreesOfFreedom: 6).quantile(0.1) == -StudentT(degreesOfFreedom: 6).quantile(0.9))
    }
}
