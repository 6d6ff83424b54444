import FedArenaAttacks
import FedArenaCore
import Testing

@Suite struct InnerProductManipulationTests {
    @Test func sendsMinusEpsilonTimesTheKnownMean() throws {
        // Mean of [2, 4] and [4, 0] is [3, 2]; epsilon 0.5 -> [-1.5, -1].
        let attack = try InnerProductManipulation(epsilon: 0.5)
        #expect(try craft(attack, context(malicious: [[2, 4]], benign: [[4, 0]])) == [[-1.5, -1]])
        // Partial knowledge: the malicious updates alone, one copy each.
        #expect(try craft(try InnerProductManipulation(epsilon: 0.1), context(malicious: [[10, 0], [0, 10]])) == [[-0.5, -0.5], [-0.5, -0.5]])
    }

    @Test func theAggregateTurnsAgainstTheHonestMean() throws {
        // 8 honest clients at [1, 1] and 2 attackers with epsilon 5: the mean becomes
        // (8 - 2 * 5) / 10 = -0.2 per coordinate, a negative inner product with [1, 1].
        let crafted = try craft(try InnerProductManipulation(epsilon: 5), context(malicious: [[1, 1], [1, 1]]))
        let rows = [[Float]](repeating: [1, 1], count: 8) + crafted
        let mean = (0..<2).map { j in rows.reduce(Float(0)) { $0 + $1[j] } / 10 }
        #expect(close(mean, [-0.2, -0.2]))
    }

    @Test func rejectsNonPositiveEpsilon() {
        expectAttackError(.invalidConfiguration) { _ = try InnerProductManipulation(epsilon: -1) }
    }
}
