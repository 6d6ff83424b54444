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

    /// Trust weights: the cluster and the median norm ignore weights in (0, 1); the mean of the
    /// admitted, clipped updates is weighted by them.
    @Test func trustWeightsWeightTheAdmittedMean() throws {
        let plain = try aggregate(try FLAME(lambda: 0), rows)
        let trust = [1, 0.5, 1, 0.25, 1.0]
        let weighted = try aggregate(try FLAME(lambda: 0), rows, weights: trust)
        let admitted = plain.selected.map(\.rawValue)
        #expect(weighted.selected == plain.selected)
        let total = admitted.reduce(0) { $0 + trust[$1] }
        for i in admitted { #expect(abs(weight(weighted, i) - trust[i] / total) < 1e-12) }
    }

    /// Under a common offset of 5 per coordinate every cosine is nearly 1 and a float32
    /// `1 − a·b/(‖a‖‖b‖)` is 0 for every pair; the offset-free cosine distances still separate
    /// the 3 updates that moved the other way from the 5 that agree.
    @Test func clustersUnderALargeCommonOffset() throws {
        var rng = SeededGenerator(seed: 18)
        let d = 1_000
        let direction = (0..<d).map { _ in Float(0.01 * rng.normal()) }
        let shifted: [[Float]] = (0..<8).map { i in
            let sign: Float = i < 5 ? 1 : -1
            return (0..<d).map { 5 + sign * direction[$0] + Float(0.002 * rng.normal()) }
        }
        let result = try aggregate(try FLAME(lambda: 0), shifted)
        #expect(result.selected == (0..<5).map(ClientID.init))
    }
}
