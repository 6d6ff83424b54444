import FedArenaAttacks
import FedArenaCore
import Testing

@Suite struct GaussianNoiseTests {
    @Test func drawsIndependentNormalVectorsDeterministically() throws {
        let attack = try GaussianNoise(sigma: 3)
        let ctx = context(malicious: [[Float]](repeating: [Float](repeating: 0, count: 4001), count: 2))
        let crafted = try craft(attack, ctx, seed: 9)
        #expect(crafted.count == 2 && crafted.allSatisfy { $0.count == 4001 })
        #expect(crafted[0] != crafted[1])
        #expect(try craft(attack, ctx, seed: 9) == crafted)
        #expect(try craft(attack, ctx, seed: 10) != crafted)
        for row in crafted {
            let mean = row.reduce(0.0) { $0 + Double($1) } / Double(row.count)
            let variance = row.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(row.count - 1)
            #expect(abs(mean) < 0.2)  // standard error 3 / sqrt(4001) ~ 0.05
            #expect(abs(variance.squareRoot() - 3) < 0.15)  // standard error ~ 0.034
        }
    }

    @Test func rejectsNonPositiveSigma() {
        expectAttackError(.invalidConfiguration) { _ = try GaussianNoise(sigma: 0) }
    }
}
