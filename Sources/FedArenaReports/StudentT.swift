import Foundation

/// Student's t distribution with ν degrees of freedom (Student 1908): the distribution of the
/// mean of ν + 1 normal samples, standardised with their own sample deviation.
///
/// The CDF is `1 - I_x(ν/2, 1/2) / 2` for t ≥ 0 with x = ν / (ν + t²), where `I` is the
/// regularized incomplete beta function, evaluated by its continued fraction (Lentz's method;
/// see Press et al., *Numerical Recipes*, 3rd ed., §6.4); the quantile inverts the CDF by
/// bisection to 1e-12.
public struct StudentT: Sendable, Equatable {
    /// The degrees of freedom, ν > 0.
    public let degreesOfFreedom: Double

    /// Creates the distribution.
    /// - Parameter degreesOfFreedom: ν, at least a tiny positive number.
    /// - Precondition: `degreesOfFreedom > 0` (callers pass n − 1 for n ≥ 2 samples).
    public init(degreesOfFreedom: Double) {
        precondition(degreesOfFreedom > 0, "StudentT needs ν > 0")
        self.degreesOfFreedom = degreesOfFreedom
    }

    /// P(T ≤ t).
    /// - Parameter t: any finite value.
    /// - Returns: the cumulative probability in [0, 1].
    public func cdf(_ t: Double) -> Double {
        let nu = degreesOfFreedom
        let x = nu / (nu + t * t)
        let tail = 0.5 * Self.regularizedIncompleteBeta(x, a: nu / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The value t with P(T ≤ t) = p.
    /// - Parameter p: a probability in (0, 1).
    /// - Returns: the quantile (negative below p = 0.5).
    /// - Precondition: `0 < p < 1`.
    public func quantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "StudentT.quantile needs 0 < p < 1")
        if p == 0.5 { return 0 }
        if p < 0.5 { return -quantile(1 - p) }
        var low = 0.0
        var high = 1.0
        while cdf(high) < p { high *= 2 }
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if cdf(middle) < p { low = middle } else { high = middle }
            if high - low <= 1e-12 * max(1, high) { break }
        }
        return (low + high) / 2
    }

    /// The two-sided critical value for a confidence level: `quantile((1 + level) / 2)`.
    /// - Parameter level: in (0, 1), e.g. 0.95.
    public func critical(level: Double) -> Double { quantile((1 + level) / 2) }

    /// I_x(a, b) for x in [0, 1], a, b > 0.
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        let front = exp(logFront)
        // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the
        // symmetry I_x(a, b) = 1 - I_{1-x}(b, a) otherwise.
        if x < (a + 1) / (a + b + 2) {
            return front * continuedFraction(x, a: a, b: b) / a
        }
        return 1 - front * continuedFraction(1 - x, a: b, b: a) / b
    }

    /// The continued fraction of the incomplete beta function, by the modified Lentz method.
    private static func continuedFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var result = d
        for m in 1...10_000 {
            let m = Double(m)
            // Even step.
            var numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            result *= d * c
            // Odd step.
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            result *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return result
    }
}
