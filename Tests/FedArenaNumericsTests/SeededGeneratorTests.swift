import FedArenaNumerics
import Testing

@Suite struct SeededGeneratorTests {
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
