import FedArenaCore
import FedArenaNumerics
import Foundation

/// Shared, internal arithmetic of the update attacks: input checks, coordinate-wise mean and
/// standard deviation, and the inverse normal CDF. Everything accumulates in `Double`.
enum AttackMath {
    /// Checks that `vectors` is non-empty, of one dimension and finite.
    /// - Returns: the common dimension.
    /// - Throws: ``AttackError`` `.invalidInput` naming `attack`.
    static func dimension(of vectors: [ParameterVector], attack: String, what: String = "updates") throws(AttackError) -> Int {
        guard let first = vectors.first else {
            throw AttackError(.invalidInput, "\(attack) needs at least one \(what.dropLast()), got none")
        }
        let d = first.count
        if d == 0 { throw AttackError(.invalidInput, "\(attack): \(what) are empty (dimension 0)") }
        for (index, vector) in vectors.enumerated() {
            if vector.count != d {
                throw AttackError(.invalidInput, "\(attack): \(what) \(index) has dimension \(vector.count), expected \(d)")
            }
            if !vector.isFinite {
                throw AttackError(.invalidInput, "\(attack): \(what) \(index) holds a non-finite value")
            }
        }
        return d
    }

    /// Checks `context` and returns the updates the adversary knows: the malicious clients'
    /// own honest updates followed by the benign updates the knowledge level granted.
    static func knownUpdates(_ context: AttackContext, attack: String, atLeast minimum: Int) throws(AttackError) -> (updates: [ParameterVector], dimension: Int) {
        let d = try dimension(of: context.maliciousUpdates, attack: attack, what: "malicious updates")
        if !context.benignUpdates.isEmpty {
            let benignDimension = try dimension(of: context.benignUpdates, attack: attack, what: "benign updates")
            if benignDimension != d {
                throw AttackError(.invalidInput, "\(attack): benign updates have dimension \(benignDimension), malicious ones \(d)")
            }
        }
        let known = context.maliciousUpdates + context.benignUpdates
        if known.count < minimum {
            throw AttackError(
                .insufficientKnowledge,
                "\(attack) needs at least \(minimum) known updates to estimate their statistics, got \(known.count) "
                    + "(\(context.maliciousUpdates.count) malicious, \(context.benignUpdates.count) benign)")
        }
        return (known, d)
    }

    /// The coordinate-wise mean.
    static func mean(_ vectors: [ParameterVector], dimension d: Int) -> [Double] {
        var sum = [Double](repeating: 0, count: d)
        for vector in vectors {
            vector.values.withUnsafeBufferPointer { v in
                for j in 0..<d { sum[j] += Double(v[j]) }
            }
        }
        let scale = 1 / Double(vectors.count)
        for j in 0..<d { sum[j] *= scale }
        return sum
    }

    /// The coordinate-wise sample standard deviation (divisor `n − 1`, as `torch.std` in the
    /// reference implementations); 0 for a single vector.
    static func standardDeviation(_ vectors: [ParameterVector], mean: [Double]) -> [Double] {
        let d = mean.count
        var sum = [Double](repeating: 0, count: d)
        for vector in vectors {
            vector.values.withUnsafeBufferPointer { v in
                for j in 0..<d {
                    let deviation = Double(v[j]) - mean[j]
                    sum[j] += deviation * deviation
                }
            }
        }
        let divisor = Double(max(vectors.count - 1, 1))
        for j in 0..<d { sum[j] = (sum[j] / divisor).squareRoot() }
        return sum
    }

    /// `‖a − b‖²` in `Double`.
    static func squaredDistance(_ a: [Double], _ b: ParameterVector) -> Double {
        var sum = 0.0
        b.values.withUnsafeBufferPointer { v in
            for j in 0..<a.count {
                let difference = a[j] - Double(v[j])
                sum += difference * difference
            }
        }
        return sum
    }

    /// `a · b` in `Double`.
    static func dot(_ a: [Double], _ b: ParameterVector) -> Double {
        var sum = 0.0
        b.values.withUnsafeBufferPointer { v in
            for j in 0..<a.count { sum += a[j] * Double(v[j]) }
        }
        return sum
    }

    /// `Σ a_j²`.
    static func squaredNorm(_ a: [Double]) -> Double { a.reduce(0) { $0 + $1 * $1 } }

    /// The squared distances between every pair of `vectors` (`n × n`, row-major), exact in
    /// `Double` (no Gram-matrix cancellation, so nearly equal updates keep their distance).
    static func pairwiseSquaredDistances(_ vectors: [ParameterVector]) -> [Double] {
        let n = vectors.count
        var result = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) {
                let distance = vectors[i].values.withUnsafeBufferPointer { a in
                    vectors[j].values.withUnsafeBufferPointer { b in
                        a.isEmpty ? 0 : Statistics.squaredDistance(a.baseAddress!, b.baseAddress!, count: a.count)
                    }
                }
                result[i * n + j] = distance
                result[j * n + i] = distance
            }
        }
        return result
    }

    /// `values` as a `Float` update.
    static func vector(_ values: [Double]) -> ParameterVector { ParameterVector(values.map { Float($0) }) }

    /// `n` copies of `vector`.
    static func copies(_ vector: ParameterVector, _ n: Int) -> [ParameterVector] { Array(repeating: vector, count: n) }

    /// The standard normal quantile `Φ⁻¹(p)` for `0 < p < 1`: Acklam's rational approximation
    /// refined by one Halley step on `erfc`, accurate to about 1e-15.
    static func inverseNormalCDF(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "inverseNormalCDF needs 0 < p < 1")
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5
            let r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        return x
    }

    // MARK: Random draws
    // Written here (not the standard library's `next(upperBound:)`/`random(in:)`, whose
    // algorithms may change between releases) so that attacks stay bit-for-bit reproducible.

    /// A uniform integer in `0..<bound` (Lemire's nearly divisionless method).
    static func uniform(below bound: Int, using rng: inout some RandomNumberGenerator) -> Int {
        precondition(bound > 0, "uniform(below:) needs a positive bound")
        let range = UInt64(bound)
        var product = rng.next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = rng.next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    static func unitDouble(using rng: inout some RandomNumberGenerator) -> Double {
        Double(rng.next() >> 11) * 0x1.0p-53
    }

    /// A standard normal variate (Box-Muller, both values of a pair used by the caller's loop
    /// through `pair`).
    static func normalPair(using rng: inout some RandomNumberGenerator) -> (Double, Double) {
        var u1 = unitDouble(using: &rng)
        while u1 <= 0 { u1 = unitDouble(using: &rng) }
        let u2 = unitDouble(using: &rng)
        let radius = (-2 * log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        return (radius * cos(angle), radius * sin(angle))
    }
}
