import FedArenaAttacks
import FedArenaCore
import Testing

@Suite struct BoostTests {
    @Test func scalesEachOwnUpdate() throws {
        let boost = try Boost(factor: 5, objective: .targetedFlip(source: 0, target: 6))
        #expect(try craft(boost, context(malicious: [[1, -2], [0, 0.5]])) == [[5, -10], [0, 2.5]])
        #expect(boost.requiredKnowledge == .none)
        #expect(boost.objective == .targetedFlip(source: 0, target: 6))
    }

    @Test func rejectsNonPositiveFactors() {
        expectAttackError(.invalidConfiguration) { _ = try Boost(factor: 0) }
        expectAttackError(.invalidConfiguration) { _ = try Boost(factor: .infinity) }
    }
}
