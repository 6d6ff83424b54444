import FedArenaAttacks
import FedArenaCore
import FedArenaNumerics
import Testing

@Suite struct LabelFlipTests {
    /// Sample `i` has the single feature `i` and label `labels[i]`.
    func samples(_ labels: [Int32]) -> LabeledSamples {
        LabeledSamples(features: labels.indices.map(Float.init), labels: labels, featureCount: 1, classCount: 10)
    }

    func poison(_ attack: LabelFlip, _ labels: [Int32], seed: UInt64 = 7) throws(AttackError) -> LabeledSamples {
        var rng = SeededGenerator(seed: seed)
        return try attack.poison(samples(labels), using: &rng)
    }

    @Test func untargetedMapsLabelToNineMinusLabel() throws {
        let attack = try LabelFlip()
        let poisoned = try poison(attack, [0, 1, 2, 9, 4])
        #expect(poisoned.labels == [9, 8, 7, 0, 5])
        #expect(poisoned.features == [0, 1, 2, 3, 4])
        #expect(attack.objective == .untargeted)
    }

    @Test func targetedFlipsOnlyTheSourceClass() throws {
        let attack = try LabelFlip(source: 0, target: 6)
        #expect(try poison(attack, [0, 0, 1, 0, 2]).labels == [6, 6, 1, 6, 2])
        #expect(attack.objective == .targetedFlip(source: 0, target: 6))
    }

    @Test func rateFlipsThatShareOfEligibleSamplesDeterministically() throws {
        let attack = try LabelFlip(source: 0, target: 6, rate: 0.5)
        let labels: [Int32] = [0, 1, 0, 2, 0, 3, 0, 4]  // 4 eligible -> 2 flipped
        let poisoned = try poison(attack, labels)
        #expect(poisoned.labels.filter { $0 == 6 }.count == 2)
        #expect(poisoned.labels.filter { $0 == 0 }.count == 2)
        for i in labels.indices where labels[i] != 0 { #expect(poisoned.labels[i] == labels[i]) }
        #expect(try poison(attack, labels) == poisoned)
        // 0.3 of 10 eligible samples: 3 flipped (untargeted).
        let untargeted = try poison(try LabelFlip(rate: 0.3), Array(repeating: 2, count: 10))
        #expect(untargeted.labels.filter { $0 == 7 }.count == 3)
        #expect(try poison(try LabelFlip(rate: 0), [1, 2]).labels == [1, 2])
    }

    @Test func rejectsImpossibleParameters() {
        expectAttackError(.invalidConfiguration) { _ = try LabelFlip(source: 0) }
        expectAttackError(.invalidConfiguration) { _ = try LabelFlip(source: 3, target: 3) }
        expectAttackError(.invalidConfiguration) { _ = try LabelFlip(source: 10, target: 1) }
        expectAttackError(.invalidConfiguration) { _ = try LabelFlip(rate: 1.5) }
        expectAttackError(.invalidInput) {
            var rng = SeededGenerator(seed: 1)
            _ = try LabelFlip(classCount: 3).poison(samples([0]), using: &rng)
        }
    }
}
