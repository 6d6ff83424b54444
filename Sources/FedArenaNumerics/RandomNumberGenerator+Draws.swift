import Foundation

/// Seed-stable draws for any generator: the algorithms are written here (not taken from the
/// standard library, whose algorithms may change between releases) so that a seeded run gives
/// the same bits on every release and every host. ``SeededGenerator`` uses the same algorithms.
extension RandomNumberGenerator {
    /// A uniform double in [0, 1) with 53 random bits.
    @inlinable
    public mutating func unitInterval() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform integer in `0..<bound` (Lemire's nearly divisionless method).
    /// - Precondition: `bound > 0`.
    public mutating func uniformIndex(below bound: Int) -> Int {
        precondition(bound > 0, "uniformIndex(below:) needs a positive bound")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// `count` standard normal variates (Box-Muller; both values of each pair are used).
    public mutating func standardNormals(_ count: Int) -> [Float] {
        var values = [Float](repeating: 0, count: count)
        var index = 0
        while index < count {
            var u1 = unitInterval()
            while u1 <= 0 { u1 = unitInterval() }
            let u2 = unitInterval()
            let radius = (-2 * log(u1)).squareRoot()
            let angle = 2 * Double.pi * u2
            values[index] = Float(radius * cos(angle))
            if index + 1 < count { values[index + 1] = Float(radius * sin(angle)) }
            index += 2
        }
        return values
    }

    /// A uniformly random permutation of `0..<count` (Fisher-Yates from the end).
    public mutating func shuffledIndices(_ count: Int) -> [Int] {
        var values = Array(0..<count)
        guard count > 1 else { return values }
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = uniformIndex(below: i + 1)
            if i != j { values.swapAt(i, j) }
        }
        return values
    }

    /// `count` distinct values of `0..<population`, ascending.
    /// - Precondition: `count <= population`.
    public mutating func sampledIndices(_ count: Int, from population: Int) -> [Int] {
        precondition(count <= population, "cannot sample \(count) of \(population)")
        if count == population { return Array(0..<population) }
        var pool = Array(0..<population)
        for i in 0..<count {
            let j = i + uniformIndex(below: population - i)
            pool.swapAt(i, j)
        }
        return pool[0..<count].sorted()
    }

    /// An index drawn with probability proportional to `weights`.
    /// - Precondition: the weights sum to a positive number.
    public mutating func categoricalIndex(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        precondition(total > 0, "categoricalIndex needs a positive total weight")
        let target = unitInterval() * total
        var running = 0.0
        for (index, weight) in weights.enumerated() {
            running += weight
            if target < running { return index }
        }
        return weights.lastIndex { $0 > 0 } ?? 0
    }
}
