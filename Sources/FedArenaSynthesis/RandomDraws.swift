import Foundation

/// Random draws written out here (not taken from the standard library, whose algorithms may
/// change between releases) so that a generator's output depends only on the bits its
/// `RandomNumberGenerator` produces.
enum RandomDraws {
    /// A uniform double in [0, 1) with 53 random bits.
    @inline(__always)
    static func unit(using rng: inout some RandomNumberGenerator) -> Double {
        Double(rng.next() >> 11) * 0x1.0p-53
    }

    /// A uniform integer in `0..<bound` (Lemire's multiply-and-reject method).
    static func index(below bound: Int, using rng: inout some RandomNumberGenerator) -> Int {
        precondition(bound > 0, "index(below:) needs a positive bound")
        let range = UInt64(bound)
        var product = rng.next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = rng.next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// `count` standard normal variates (Box-Muller, both values of each pair used), as floats.
    static func normals(_ count: Int, using rng: inout some RandomNumberGenerator) -> [Float] {
        var values = [Float](repeating: 0, count: count)
        var i = 0
        while i < count {
            var u1 = unit(using: &rng)
            while u1 <= 0 { u1 = unit(using: &rng) }
            let u2 = unit(using: &rng)
            let radius = (-2 * log(u1)).squareRoot()
            let angle = 2 * Double.pi * u2
            values[i] = Float(radius * cos(angle))
            if i + 1 < count { values[i + 1] = Float(radius * sin(angle)) }
            i += 2
        }
        return values
    }

    /// An index drawn with probability proportional to `weights` (non-negative, positive sum).
    static func categorical(_ weights: [Double], using rng: inout some RandomNumberGenerator) -> Int {
        let total = weights.reduce(0, +)
        precondition(total > 0, "categorical needs a positive total weight")
        let target = unit(using: &rng) * total
        var running = 0.0
        for (index, weight) in weights.enumerated() {
            running += weight
            if target < running { return index }
        }
        return weights.lastIndex { $0 > 0 } ?? 0
    }

    /// A uniformly random permutation of `0..<count` (Fisher-Yates from the end).
    static func permutation(_ count: Int, using rng: inout some RandomNumberGenerator) -> [Int] {
        var values = Array(0..<count)
        guard count > 1 else { return values }
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = index(below: i + 1, using: &rng)
            if i != j { values.swapAt(i, j) }
        }
        return values
    }
}
