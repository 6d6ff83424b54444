import FedArenaAttacks
import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Testing

@Suite struct FangTrimTests {
    @Test func drawsBeyondTheBenignExtremesAgainstTheirDirection() throws {
        // Honest [1, −1], [2, −3], [3, −2]: mean [2, −2] -> s = [+, −].
        // Coordinate 0: min 1 > 0 -> [1/2, 1]; coordinate 1: max −1 <= 0 -> [−1, −1/2].
        let crafted = try craft(try FangTrim(), context(malicious: [[1, -1], [2, -3]], benign: [[3, -2]]))
        #expect(crafted.count == 2 && crafted[0] != crafted[1])
        for row in crafted {
            #expect(row[0] >= 0.5 && row[0] <= 1)
            #expect(row[1] >= -1 && row[1] <= -0.5)
        }
        // Negative minimum and positive maximum: [b·min, min] and [max, b·max] with b = 3.
        let other = try craft(try FangTrim(b: 3), context(malicious: [[-1, 2]], benign: [[3, -6]]))
        #expect(other[0][0] >= -3 && other[0][0] <= -1)  // s = + (mean 1), min −1
        #expect(other[0][1] >= 2 && other[0][1] <= 6)  // s = − (mean −2), max 2
    }

    @Test func pushesTrimmedMeanAndMedianAgainstTheBenignDirection() throws {
        let benign = noisyRows(7, d: 8, mean: 1, sigma: 0.3, seed: 3)
        let malicious = noisyRows(3, d: 8, mean: 1, sigma: 0.3, seed: 4)
        let crafted = try craft(try FangTrim(), context(malicious: malicious, benign: benign), seed: 2)
        var rng = SeededGenerator(seed: 1)
        let rules: [any Aggregator] = [try TrimmedMean(beta: 0.3), CoordinateMedian()]
        for rule in rules {
            let clean = try rule.aggregate(clientUpdates(benign + malicious), context: roundContext(8), using: &rng)
            let attacked = try rule.aggregate(clientUpdates(benign + crafted), context: roundContext(8), using: &rng)
            // Every coordinate's benign direction is positive: the attack lowers every one.
            for j in 0..<8 { #expect(attacked.aggregate.values[j] < clean.aggregate.values[j], "\(rule.name) coordinate \(j)") }
        }
    }

    @Test func isDeterministicGivenTheGenerator() throws {
        let ctx = context(malicious: [[1, 2], [2, 1]], benign: [[3, 3]])
        #expect(try craft(try FangTrim(), ctx, seed: 4) == (try craft(try FangTrim(), ctx, seed: 4)))
        expectAttackError(.invalidConfiguration) { _ = try FangTrim(b: 1) }
    }
}
