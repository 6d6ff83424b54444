import Foundation

/// A seeded, splittable pseudo-random generator: xoshiro256** (Blackman and Vigna 2018,
/// "Scrambled linear pseudorandom number generators") seeded through SplitMix64.
///
/// Every random choice in FedArena comes from a generator derived from the scenario seed and
/// a *stream path* (`[round, client, epoch]`, ...), so a value never depends on which process
/// computes it or in which order: `SeededGenerator(seed: 42, stream: [3, 17])` is the same
/// sequence everywhere. The algorithms below (uniform integers, shuffles, normals, gamma) are
/// written here rather than taken from the standard library, whose algorithms may change
/// between releases and would break bit-for-bit reproducibility.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var words: (UInt64, UInt64, UInt64, UInt64)
    private var spareNormal: Double?

    /// Creates the generator for `seed` and the stream path `stream`.
    public init(seed: UInt64, stream: [UInt64] = []) {
        var mixer = SplitMix64(state: seed)
        var key = mixer.next()
        for part in stream {
            var partMixer = SplitMix64(state: key ^ (part &* 0x9E37_79B9_7F4A_7C15))
            key = partMixer.next() ^ mixer.next()
        }
        var seeder = SplitMix64(state: key)
        words = (seeder.next(), seeder.next(), seeder.next(), seeder.next())
        if words == (0, 0, 0, 0) { words.0 = 1 }
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotateLeft(words.1 &* 5, 7) &* 9
        let shifted = words.1 << 17
        words.2 ^= words.0
        words.3 ^= words.1
        words.1 ^= words.2
        words.0 ^= words.3
        words.2 ^= shifted
        words.3 = rotateLeft(words.3, 45)
        return result
    }

    /// Creates a generator in a given xoshiro256** state (for known-answer tests and
    /// checkpoints; see ``state``).
    /// - Parameter state: the four state words.
    /// - Returns: `nil` unless there are exactly 4 words and one is non-zero (the all-zero
    ///   state is a fixed point of xoshiro256**).
    public init?(state: [UInt64]) {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
        words = (state[0], state[1], state[2], state[3])
    }

    /// The four xoshiro256** state words (what a checkpoint saves; a pending Box-Muller value of
    /// ``normal()`` is not part of it).
    public var state: [UInt64] { [words.0, words.1, words.2, words.3] }

    /// A uniform integer in `0..<bound` (``RandomNumberGenerator/uniformIndex(below:)``).
    /// - Precondition: `bound > 0`.
    public mutating func uniform(below bound: Int) -> Int { uniformIndex(below: bound) }

    /// A uniform double in [0, 1) with 53 random bits (``RandomNumberGenerator/unitInterval()``).
    public mutating func unitDouble() -> Double { unitInterval() }

    /// A standard normal variate: the first value of a ``RandomNumberGenerator/standardNormalPair()``,
    /// the second kept for the next call.
    public mutating func normal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        let (first, second) = standardNormalPair()
        spareNormal = second
        return first
    }

    /// A Gamma(shape, 1) variate (Marsaglia and Tsang 2000; boosted for shape < 1).
    /// - Precondition: `shape > 0`.
    public mutating func gamma(shape: Double) -> Double {
        precondition(shape > 0, "gamma needs a positive shape")
        if shape < 1 {
            var u = unitDouble()
            while u <= 0 { u = unitDouble() }
            return gamma(shape: shape + 1) * pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = normal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = unitDouble()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if u > 0, log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// A draw from Dirichlet(α, ..., α) of dimension `count`.
    public mutating func dirichlet(alpha: Double, count: Int) -> [Double] {
        var draws = (0..<count).map { _ in gamma(shape: alpha) }
        let total = draws.reduce(0, +)
        if total <= 0 {
            // Every gamma underflowed (tiny α): put all mass on one uniform coordinate.
            draws = [Double](repeating: 0, count: count)
            draws[uniform(below: count)] = 1
            return draws
        }
        return draws.map { $0 / total }
    }

    /// A uniformly random permutation of `0..<count` (``RandomNumberGenerator/shuffledIndices(_:)``).
    public mutating func permutation(_ count: Int) -> [Int] { shuffledIndices(count) }

    /// `count` distinct values of `0..<population`, sorted ascending
    /// (``RandomNumberGenerator/sampledIndices(_:from:)``).
    /// - Precondition: `count <= population`.
    public mutating func sample(_ count: Int, from population: Int) -> [Int] { sampledIndices(count, from: population) }
}

/// SplitMix64 (Steele, Lea and Flood 2014), used to expand seeds.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The current state.
    public var state: UInt64

    /// Creates the generator at `state`.
    public init(state: UInt64) { self.state = state }

    /// The next 64 bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@inline(__always)
private func rotateLeft(_ value: UInt64, _ amount: UInt64) -> UInt64 {
    (value << amount) | (value >> (64 - amount))
}
