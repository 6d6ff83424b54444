import Foundation

/// Seed-stable draws for any generator, the one implementation of every random draw in
/// FedArena: the algorithms are written here (not taken from the standard library, whose
/// algorithms may change between releases) so that a seeded run gives the same bits on every
/// release and every host. ``SeededGenerator``'s named draws forward to these.
extension RandomNumberGenerator {
    /// A uniform double in [0, 1) with 53 random bits.
    /// - Returns: `(next() >> 11) · 2⁻⁵³`.
    @inlinable
    public mutating func unitInterval() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform integer in `0..<bound`, without bias (Lemire 2019, "Fast Random Integer
    /// Generation in an Interval", ACM TOMACS: multiply-and-shift with rejection of the
    /// `2⁶⁴ mod bound` low products that would favour some values).
    /// - Parameter bound: the exclusive upper bound.
    /// - Returns: the draw.
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

    /// Two independent standard normal variates (Box-Muller: `u₁` redrawn while 0, then
    /// `r = √(−2 ln u₁)`, `(r cos 2πu₂, r sin 2πu₂)`).
    /// - Returns: the pair.
    public mutating func standardNormalPair() -> (Double, Double) {
        var u1 = unitInterval()
        while u1 <= 0 { u1 = unitInterval() }
        let u2 = unitInterval()
        let radius = (-2 * log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        return (radius * cos(angle), radius * sin(angle))
    }

    /// `count` standard normal variates, both values of each ``standardNormalPair()`` used in
    /// order.
    /// - Parameter count: how many.
    /// - Returns: the variates as `Float`.
    public mutating func standardNormals(_ count: Int) -> [Float] {
        var values = [Float](repeating: 0, count: count)
        var index = 0
        while index < count {
            let (first, second) = standardNormalPair()
            values[index] = Float(first)
            if index + 1 < count { values[index + 1] = Float(second) }
            index += 2
        }
        return values
    }

    /// Shuffles `array` in place (Fisher-Yates from the end: for `i = n−1 ... 1`, swap `i` with
    /// a uniform `j ≤ i`).
    /// - Parameter array: the values.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = uniformIndex(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }

    /// A uniformly random permutation of `0..<count` (``shuffle(_:)`` of the identity).
    /// - Parameter count: the size.
    /// - Returns: the permutation.
    public mutating func shuffledIndices(_ count: Int) -> [Int] {
        var values = Array(0..<count)
        shuffle(&values)
        return values
    }

    /// Moves a uniform random sample of `count` elements of `pool` to its front, in draw order
    /// (partial Fisher-Yates from the front: for `i = 0 ..< count`, swap `i` with a uniform
    /// `j` in `i..<pool.count`). Always draws `count` values.
    /// - Parameters:
    ///   - pool: the elements; reordered.
    ///   - count: how many to draw, at most `pool.count`.
    /// - Precondition: `count <= pool.count`.
    public mutating func partialShuffle<T>(_ pool: inout [T], count: Int) {
        precondition(count <= pool.count, "cannot sample \(count) of \(pool.count)")
        for i in 0..<count {
            let j = i + uniformIndex(below: pool.count - i)
            pool.swapAt(i, j)
        }
    }

    /// `count` distinct values of `0..<population`, ascending (``partialShuffle(_:count:)`` of
    /// `0..<population`, sorted).
    /// - Parameters:
    ///   - count: how many.
    ///   - population: the range size.
    /// - Returns: the sample.
    /// - Precondition: `count <= population`.
    public mutating func sampledIndices(_ count: Int, from population: Int) -> [Int] {
        var pool = Array(0..<population)
        partialShuffle(&pool, count: count)
        return pool[0..<count].sorted()
    }

    /// An index drawn with probability proportional to `weights` (inverse CDF of one
    /// ``unitInterval()``).
    /// - Parameter weights: non-negative weights.
    /// - Returns: the index.
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
