import Foundation

/// Draws from any `RandomNumberGenerator` with algorithms fixed here (not the standard
/// library's, which may change between releases), so that a seeded generator gives the same
/// buckets, noise and start vectors everywhere.
enum RandomDraws {
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

    /// A uniformly random permutation of `0..<count` (Fisher-Yates from the end).
    static func permutation(_ count: Int, using rng: inout some RandomNumberGenerator) -> [Int] {
        var values = Array(0..<count)
        guard count > 1 else { return values }
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = uniform(below: i + 1, using: &rng)
            if i != j { values.swapAt(i, j) }
        }
        return values
    }

    /// `count` `sorted` distinct values of `0..<population` (partial Fisher-Yates).
    static func sample(_ count: Int, from population: Int, using rng: inout some RandomNumberGenerator) -> [Int] {
        precondition(count <= population, "cannot sample \(count) of \(population)")
        if count == population { return Array(0..<population) }
        var pool = Array(0..<population)
        for i in 0..<count {
            let j = i + uniform(below: population - i, using: &rng)
            pool.swapAt(i, j)
        }
        return pool[0..<count].sorted()
    }

    /// `count` standard normal draws (Box-Muller, both values of each pair used).
    static func normals(_ count: Int, using rng: inout some RandomNumberGenerator) -> [Float] {
        var result = [Float](repeating: 0, count: count)
        var index = 0
        while index < count {
            var u1 = Double(rng.next() >> 11) * 0x1.0p-53
            while u1 <= 0 { u1 = Double(rng.next() >> 11) * 0x1.0p-53 }
            let u2 = Double(rng.next() >> 11) * 0x1.0p-53
            let radius = (-2 * log(u1)).squareRoot()
            let angle = 2 * Double.pi * u2
            result[index] = Float(radius * cos(angle))
            if index + 1 < count { result[index + 1] = Float(radius * sin(angle)) }
            index += 2
        }
        return result
    }
}
