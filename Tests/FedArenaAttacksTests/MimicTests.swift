import FedArenaAttacks
import FedArenaCore
import Testing

@Suite struct MimicTests {
    // Honest updates [1, 0], [-1, 0], [3, 0], [0, 0.5]: mean [0.75, 0.125]; centred
    // [0.25, -0.125], [-1.75, -0.125], [2.25, -0.125], [-0.75, 0.375]. Their scatter matrix is
    // [[8.75, -0.375], [-0.375, 0.1875]] (by hand), whose top eigenvector is within 0.05 rad of
    // the x axis; the centred x projections are 0.25, -1.75, 2.25, -0.75, so [3, 0] is the most
    // extreme (|2.25| against |-1.75|, a margin no 0.05 rad tilt can close).
    static let honest: [[Float]] = [[1, 0], [-1, 0], [3, 0], [0, 0.5]]

    @Test func copiesTheMostExtremeHonestUpdateOnTheTopPrincipalDirection() throws {
        for seed: UInt64 in [1, 2, 3] {
            let crafted = try craft(try Mimic(), context(malicious: [[9, 9], [8, 8]], benign: Self.honest), seed: seed)
            #expect(crafted == [[3, 0], [3, 0]], "seed \(seed)")
        }
    }

    @Test func theDirectionIsTheVarianceNotTheAxis() throws {
        // Spread along y only: centred y projections -2, 0, 2.5, -0.5 (mean y = 2): [0, 4.5] wins.
        let crafted = try craft(try Mimic(), context(malicious: [[0, 0]], benign: [[1, 0], [1, 2], [1, 4.5], [1, 1.5]]))
        #expect(crafted == [[1, 4.5]])
    }

    @Test func aFixedTargetCopiesThatHonestUpdate() throws {
        let crafted = try craft(try Mimic(target: .fixed(1)), context(malicious: [[5, 5], [6, 6], [7, 7]], benign: Self.honest))
        #expect(crafted == [[-1, 0], [-1, 0], [-1, 0]])
    }

    @Test func needsTheHonestUpdates() throws {
        expectAttackError(.insufficientKnowledge) { _ = try craft(try Mimic(), context(malicious: [[1, 1]])) }
        expectAttackError(.insufficientKnowledge) {
            _ = try craft(try Mimic(target: .fixed(4)), context(malicious: [[1, 1]], benign: Self.honest))
        }
        expectAttackError(.invalidConfiguration) { _ = try Mimic(target: .fixed(-1)) }
        #expect(try Mimic().requiredKnowledge == .omniscient)
    }

    @Test func theRegistryReadsTheTarget() throws {
        let auto = try AttackRegistry.standard.make(
            ComponentSpec(kind: "mimic", options: ["knowledge": .string("omniscient")], keyPath: "attack"))
        #expect((auto.updateAttack as? Mimic)?.target == .mostExtreme)
        let fixed = try AttackRegistry.standard.make(
            ComponentSpec(kind: "mimic", options: ["target": .int(2), "knowledge": .string("omniscient")], keyPath: "attack"))
        #expect((fixed.updateAttack as? Mimic)?.target == .fixed(2))
        #expect(throws: ConfigError.self) {
            _ = try AttackRegistry.standard.make(ComponentSpec(kind: "mimic", options: ["target": .string("first")], keyPath: "attack"))
        }
        // Below the attack's knowledge.
        #expect(throws: ConfigError.self) {
            _ = try AttackRegistry.standard.make(ComponentSpec(kind: "mimic", options: ["knowledge": .string("partial")], keyPath: "attack"))
        }
    }
}
