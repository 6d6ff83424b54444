import FedArenaAttacks
import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Testing

@Suite struct SignFlipTests {
    @Test func sendsMinusKTimesEachOwnUpdate() throws {
        let crafted = try craft(try SignFlip(scale: 4), context(malicious: [[1, -2], [0.5, 0]]))
        #expect(crafted == [[-4, 8], [-2, 0]])
        #expect(try craft(try SignFlip(), context(malicious: [[1, -2]])) == [[-1, 2]])
    }

    @Test func dragsFedAvgButNotTheMedian() throws {
        // 7 honest clients send 1, 3 attackers flip theirs with k = 4.
        let honest = [[Float]](repeating: [1], count: 10)
        let flipped = try craft(try SignFlip(scale: 4), context(malicious: Array(honest.prefix(3))))
        let rows = Array(honest.prefix(7)) + flipped
        var rng = SeededGenerator(seed: 1)
        let mean = try FedAvg().aggregate(clientUpdates(rows), context: roundContext(1), using: &rng)
        let median = try CoordinateMedian().aggregate(clientUpdates(rows), context: roundContext(1), using: &rng)
        #expect(close(mean.aggregate.values, [-0.5]))  // (7 - 12) / 10
        #expect(median.aggregate.values == [1])
    }

    @Test func rejectsBadScaleAndInput() {
        expectAttackError(.invalidConfiguration) { _ = try SignFlip(scale: 0) }
        expectAttackError(.invalidInput) { _ = try craft(try SignFlip(), context(malicious: [])) }
        expectAttackError(.invalidInput) { _ = try craft(try SignFlip(), context(malicious: [[1], [1, 2]])) }
        expectAttackError(.invalidInput) { _ = try craft(try SignFlip(), context(malicious: [[.nan]])) }
    }
}
