import FedArenaAttacks
import FedArenaCore
import Testing

@Suite struct ALIETests {
    @Test func zFollowsThePaperFormula() throws {
        // n = 50, m = 10: s = floor(50/2 + 1) - 10 = 16, z = Φ⁻¹(34/50) = Φ⁻¹(0.68).
        let z = try #require(ALIE.z(n: 50, m: 10))
        #expect(abs(z - 0.46769879911450835) < 1e-9)
        // n = 4, m = 2: s = 1, z = Φ⁻¹(0.75); n = 11, m = 1: s = 5, z = Φ⁻¹(6/11).
        #expect(abs(try #require(ALIE.z(n: 4, m: 2)) - 0.6744897501960817) < 1e-9)
        #expect(abs(try #require(ALIE.z(n: 11, m: 1)) - 0.11418529432142821) < 1e-9)
        // A malicious majority leaves s <= 0: z would be infinite.
        #expect(ALIE.z(n: 10, m: 6) == nil)
        #expect(ALIE.z(n: 10, m: 0) == nil)
    }

    @Test func craftsMeanMinusZStd() throws {
        // mean [2, 2], sample std [sqrt 2, sqrt 8]; z = 1 -> [2 - 1.41421, 2 - 2.82843].
        let fixed = try craft(try ALIE(z: 1), context(malicious: [[1, 0], [3, 4]]))
        #expect(fixed.count == 2 && fixed[0] == fixed[1])
        #expect(close(fixed[0], [0.5857864, -0.8284271]))
        // From the formula with n = 4, m = 2: z = 0.6744897.
        let derived = try craft(try ALIE(), context(malicious: [[1, 0], [3, 4]], total: 4))
        #expect(close(derived[0], [2 - 0.6744897 * 1.4142136, 2 - 0.6744897 * 2.8284271]))
    }

    @Test func omniscientPoolsTheBenignUpdates() throws {
        // Known: [0], [2] (malicious) and [4] (benign): mean 2, sample std 2; z = 0.5.
        #expect(try craft(try ALIE(z: 0.5), context(malicious: [[0], [2]], benign: [[4]])) == [[1], [1]])
    }

    @Test func needsTwoKnownUpdatesAndAMinority() {
        expectAttackError(.insufficientKnowledge) { _ = try craft(try ALIE(), context(malicious: [[1]], total: 10)) }
        expectAttackError(.invalidInput) { _ = try craft(try ALIE(), context(malicious: [[1], [2], [3]], total: 4)) }
        expectAttackError(.invalidConfiguration) { _ = try ALIE(z: .nan) }
    }
}
