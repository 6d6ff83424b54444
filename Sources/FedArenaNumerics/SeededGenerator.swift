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
    private var state: (UInt64, UInt64, UInt64, UInt64)
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
        state = (seeder.next(), seeder.next(), seeder.next(), seeder.next())
        if state == (0, 0, 0, 0) { state.0 = 1 }
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    /// A uniform integer in `0..<bound` (Lemire's nearly divisionless method).
    /// - Precondition: `bound > 0`.
    public mutating func uniform(below bound: Int) -> Int {
        precondition(bound > 0, "uniform(below:) needs a positive bound")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func unitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal variate (Box-Muller; the second value of each pair is kept).
    public mutating func normal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        var u1 = unitDouble()
        while u1 <= 0 { u1 = unitDouble() }
        let u2 = unitDouble()
        let radius = (-2 * log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        spareNormal = radius * sin(angle)
        return radius * cos(angle)
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

    /// Shuffles `array` in place (Fisher-Yates, from the end).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = uniform(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }

    /// A uniformly random permutation of `0..<count`.
    public mutating func permutation(_ count: Int) -> [Int] {
        var values = Array(0..<count)
        shuffle(&values)
        return values
    }

    /// `count` distinct values of `0..<population`, sorted ascending.
    /// - Precondition: `count <= population`.
    public mutating func sample(_ count: Int, from population: Int) -> [Int] {
        precondition(count <= population, "cannot sample \(count) of \(population)")
        var pool = Array(0..<population)
        for i in 0..<count {
            let j = i + uniform(below: population - i)
            pool.swapAt(i, j)
        }
        return pool[0..<count].sorted()
    }
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
