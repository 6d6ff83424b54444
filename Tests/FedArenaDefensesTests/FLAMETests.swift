import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import FedArenaTesting
import Testing

@Suite struct FLAMETests {
    let rows: [[Float]] = [[1, 0], [1, 0.1], [1, -0.1], [0.9, 0], [-1, 0]]

    @Test func dropsTheMinorityDirectionAndClipsToTheMedianNorm() throws {
        let result = try aggregate(try FLAME(lambda: 0), rows)
        #expect(weight(result, 4) == 0)
        #expect(result.selected == [0, 1, 2, 3].map(ClientID.init))
        // Median norm 1: [1, ±0.1] are clipped to norm 1.
        let clip = 1 / Float(1.01).squareRoot()
        let expected: [Float] = [(1 + 2 * clip + 0.9) / 4, 0]
        #expect(close(result.aggregate.values, expected))
        #expect(result.note?.contains("dropped 1 of 5") == true)
    }

    @Test func noiseIsSeededAndScaled() throws {
        let quiet = try aggregate(try FLAME(lambda: 0), rows)
        let noisy = try aggregate(try FLAME(lambda: 0.1), rows, seed: 3)
        let again = try aggregate(try FLAME(lambda: 0.1), rows, seed: 3)
        let other = try aggregate(try FLAME(lambda: 0.1), rows, seed: 4)
        #expect(noisy == again)
        #expect(noisy.aggregate != other.aggregate)
        let gap = zip(noisy.aggregate.values, quiet.aggregate.values).map { abs($0 - $1) }.max()!
        #expect(gap > 0 && gap < 0.6)  // σ = 0.1 · median norm 1
    }

    @Test func invalidLambda() {
        #expect(throws: AggregationError.self) { try FLAME(lambda: -1) }
    }

    @Test func conformance() throws {
        AggregatorConformance(try FLAME(), inputCount: 9, robustTo: 3, identityTolerance: 0.02).verify()
        AggregatorConformance(try FLAME(lambda: 0), inputCount: 2).verify()
    }
}
