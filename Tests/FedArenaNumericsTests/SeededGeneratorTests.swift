import FedArenaNumerics
import Testing

/// A generator that replays fixed outputs (then repeats the last), to pin down how draws map bits.
struct ScriptedGenerator: RandomNumberGenerator {
    var outputs: [UInt64]
    var position = 0
    init(_ outputs: [UInt64]) { self.outputs = outputs }
    mutating func next() -> UInt64 {
        defer { position += 1 }
        return outputs[min(position, outputs.count - 1)]
    }
}

@Suite struct SeededGeneratorTests {
    // Known answers from Blackman and Vigna's reference C code (xoshiro256starstar.c and
    // splitmix64.c, prng.di.unimi.it), compiled with gcc 12 in /tmp and printed with %016llx;
    // the last vector runs SeededGenerator's seed/stream derivation written in the same C
    // program (mixer = splitmix64(seed); key = next(mixer); per stream part p:
    // key = splitmix64(key ^ p * 0x9E3779B97F4A7C15).next() ^ next(mixer); state = 4 x
    // next(splitmix64(key))).
    @Test func xoshiro256StarStarMatchesTheReferenceCode() throws {
        var generator = try #require(SeededGenerator(state: [1, 2, 3, 4]))
        let expected: [UInt64] = [
            0x0000_0000_0000_2d00, 0x0000_0000_0000_0000, 0x0000_0000_5a00_7080,
            0x10e0_0000_0000_9d80, 0x10e0_b61c_e100_9d80, 0x0870_021c_e143_ad00,
        ]
        #expect((0..<6).map { _ in generator.next() } == expected)
    }

    @Test func splitMix64MatchesTheReferenceCode() {
        var zero = SplitMix64(state: 0)
        #expect((0..<5).map { _ in zero.next() } == [0xe220_a839_7b1d_cdaf, 0x6e78_9e6a_a1b9_65f4, 0x06c4_5d18_8009_454f, 0xf88b_b8a8_724c_81ec, 0x1b39_896a_51a8_749b])
        var other = SplitMix64(state: 1_234_567)
        #expect((0..<5).map { _ in other.next() } == [0x599e_d017_fb08_fc85, 0x2c73_f084_5854_0fa5, 0x883e_bce5_a3f2_7c77, 0x3fbe_f740_e917_7b3f, 0xe3b8_3467_08cb_5ecd])
    }

    @Test func seedAndStreamDerivationMatchesTheCProgram() {
        #expect(Self.draws(SeededGenerator(seed: 42, stream: [3, 17]), 4) == [0x5ac4_c30f_aa4d_570a, 0x46f0_c03e_19b3_109f, 0xb6ac_f60b_d8f5_8931, 0xd6ab_6d3d_00c7_28f0])
    }

    @Test func stateRoundTripsAndRejectsTheZeroState() throws {
        var generator = SeededGenerator(seed: 5, stream: [1])
        _ = generator.next()
        var copy = try #require(SeededGenerator(state: generator.state))
        #expect((0..<10).map { _ in copy.next() } == (0..<10).map { _ in generator.next() })
        #expect(SeededGenerator(state: [0, 0, 0, 0]) == nil)
        #expect(SeededGenerator(state: [1, 2, 3]) == nil)
    }

    /// Lemire's draw: `⌊u · b / 2⁶⁴⌋`, rejecting the `2⁶⁴ mod b` values of `u · b mod 2⁶⁴` that
    /// would make some results likelier. Bound 3: `2⁶⁴ mod 3 = 1`, so `u = 0` (low product 0) is
    /// rejected and the next output decides; `u = 2⁶³` gives `⌊3/2⌋ = 1` (modulo would give
    /// `2⁶³ mod 3 = 2`).
    @Test func uniformIndexMultipliesAndRejects() {
        var scripted = ScriptedGenerator([0, 1 << 63])
        #expect(scripted.uniformIndex(below: 3) == 1)
        #expect(scripted.position == 2)
        var top = ScriptedGenerator([.max])
        #expect(top.uniformIndex(below: 10) == 9)
        var power = ScriptedGenerator([0])  // bound 4: 2⁶⁴ mod 4 = 0, nothing is rejected
        #expect(power.uniformIndex(below: 4) == 0 && power.position == 1)
    }

    @Test func namedDrawsAreTheExtensionDraws() {
        var a = SeededGenerator(seed: 21)
        var b = SeededGenerator(seed: 21)
        #expect(a.uniform(below: 1_000) == b.uniformIndex(below: 1_000))
        #expect(a.unitDouble() == b.unitInterval())
        #expect(a.permutation(20) == b.shuffledIndices(20))
        #expect(a.sample(5, from: 9) == b.sampledIndices(5, from: 9))
        let (first, second) = b.standardNormalPair()
        #expect(a.normal() == first && a.normal() == second)
        // Sampling all of a population still draws (the stream does not depend on the count).
        var c = SeededGenerator(seed: 22)
        var d = SeededGenerator(seed: 22)
        _ = c.sampledIndices(4, from: 4)
        for _ in 0..<4 { _ = d.next() }
        #expect(c.next() == d.next())
    }

    static func draws(_ generator: SeededGenerator, _ count: Int) -> [UInt64] {
        var generator = generator
        return (0..<count).map { _ in generator.next() }
    }

    @Test func sameSeedAndStreamGiveTheSameSequence() {
        #expect(Self.draws(SeededGenerator(seed: 42, stream: [3, 17]), 100) == Self.draws(SeededGenerator(seed: 42, stream: [3, 17]), 100))
        #expect(Self.draws(SeededGenerator(seed: 0), 10) == Self.draws(SeededGenerator(seed: 0, stream: []), 10))
    }

    @Test func differentStreamsAndSeedsDiffer() {
        let base = Self.draws(SeededGenerator(seed: 42, stream: [3, 17]), 20)
        for other in [
            SeededGenerator(seed: 42, stream: [3, 18]), SeededGenerator(seed: 42, stream: [17, 3]),
            SeededGenerator(seed: 42, stream: [3]), SeededGenerator(seed: 42, stream: [3, 17, 0]),
            SeededGenerator(seed: 43, stream: [3, 17]),
        ] {
            let draws = Self.draws(other, 20)
            #expect(draws != base)
            #expect(zip(draws, base).filter { $0 == $1 }.count == 0)
        }
    }

    @Test func uniformBelowIsRoughlyUnbiased() {
        var generator = SeededGenerator(seed: 1)
        let bound = 6, draws = 60_000
        var counts = [Int](repeating: 0, count: bound)
        for _ in 0..<draws { counts[generator.uniform(below: bound)] += 1 }
        // Chi-square with 5 degrees of freedom: 20.5 is the 0.999 quantile.
        let expected = Double(draws) / Double(bound)
        let chiSquare = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        #expect(chiSquare < 20.5)
        #expect((0..<1000).allSatisfy { _ in generator.uniform(below: 1) == 0 })
    }

    @Test(arguments: [0, 1, 2, 10, 600])
    func permutationIsAPermutation(count: Int) {
        var generator = SeededGenerator(seed: 5, stream: [UInt64(count)])
        let permutation = generator.permutation(count)
        #expect(permutation.sorted() == Array(0..<count))
        if count >= 10 { #expect(permutation != Array(0..<count)) }
    }

    @Test func sampleGivesDistinctSortedValues() {
        var generator = SeededGenerator(seed: 9)
        let sample = generator.sample(20, from: 50)
        #expect(sample.count == 20)
        #expect(Set(sample).count == 20)
        #expect(sample == sample.sorted())
        #expect(sample.allSatisfy { (0..<50).contains($0) })
    }

    @Test func normalHasMeanZeroAndUnitStd() {
        var generator = SeededGenerator(seed: 2)
        let values = (0..<40_000).map { _ in generator.normal() }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        #expect(abs(mean) < 0.02)
        #expect(abs(variance.squareRoot() - 1) < 0.02)
    }

    @Test(arguments: [0.3, 1.0, 2.5, 8.0])
    func gammaMeanIsTheShape(shape: Double) {
        var generator = SeededGenerator(seed: 3, stream: [UInt64(shape * 10)])
        let count = 20_000
        let values = (0..<count).map { _ in generator.gamma(shape: shape) }
        #expect(values.allSatisfy { $0 >= 0 })
        let mean = values.reduce(0, +) / Double(count)
        // The standard error of the mean is sqrt(shape / count); allow 5 of them.
        #expect(abs(mean - shape) < 5 * (shape / Double(count)).squareRoot())
    }

    @Test(arguments: [0.01, 0.5, 10.0])
    func dirichletSumsToOne(alpha: Double) {
        var generator = SeededGenerator(seed: 4)
        for _ in 0..<50 {
            let draw = generator.dirichlet(alpha: alpha, count: 10)
            #expect(draw.count == 10)
            #expect(draw.allSatisfy { $0 >= 0 && $0 <= 1 })
            #expect(abs(draw.reduce(0, +) - 1) < 1e-12)
        }
    }
}
