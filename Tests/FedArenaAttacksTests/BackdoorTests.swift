import FedArenaAttacks
import FedArenaCore
import FedArenaNumerics
import Testing

@Suite struct BackdoorTests {
    /// 4x4 images of zeros; the trigger covers pixels 10, 11, 14 and 15.
    let trigger = Trigger(imageSide: 4, row: 2, column: 2, size: 2, value: 1)
    let triggerPixels = [10, 11, 14, 15]

    func samples(_ count: Int) -> LabeledSamples {
        LabeledSamples(
            features: [Float](repeating: 0, count: count * 16), labels: (0..<count).map { Int32($0 % 10) },
            featureCount: 16, classCount: 10)
    }

    func isStamped(_ set: LabeledSamples, _ i: Int) -> Bool {
        let image = Array(set.features[(i * 16)..<((i + 1) * 16)])
        return triggerPixels.allSatisfy { image[$0] == 1 } && image.enumerated().allSatisfy { triggerPixels.contains($0.offset) || $0.element == 0 }
    }

    func isClean(_ set: LabeledSamples, _ i: Int) -> Bool { set.features[(i * 16)..<((i + 1) * 16)].allSatisfy { $0 == 0 } }

    @Test func replaceStampsAndRelabelsThatShareInPlace() throws {
        let attack = try Backdoor(trigger: trigger, target: 3, rate: 0.3)
        var rng = SeededGenerator(seed: 5)
        let poisoned = try attack.poison(samples(10), using: &rng)
        #expect(poisoned.count == 10)
        let stamped = (0..<10).filter { isStamped(poisoned, $0) }
        #expect(stamped.count == 3)
        #expect((0..<10).filter { isClean(poisoned, $0) }.count == 7)
        for i in stamped { #expect(poisoned.labels[i] == 3) }
        for i in 0..<10 where !stamped.contains(i) { #expect(poisoned.labels[i] == Int32(i % 10)) }
        #expect(attack.objective == .backdoor(trigger: trigger, target: 3))
        var again = SeededGenerator(seed: 5)
        #expect(try attack.poison(samples(10), using: &again) == poisoned)
    }

    @Test func appendKeepsTheCleanSamplesAndAddsStampedCopies() throws {
        let attack = try Backdoor(trigger: trigger, target: 3, rate: 0.3, mode: .append)
        var rng = SeededGenerator(seed: 5)
        let clean = samples(10)
        let poisoned = try attack.poison(clean, using: &rng)
        #expect(poisoned.count == 13)
        #expect(Array(poisoned.labels.prefix(10)) == clean.labels)
        #expect((0..<10).allSatisfy { isClean(poisoned, $0) })
        #expect((10..<13).allSatisfy { isStamped(poisoned, $0) && poisoned.labels[$0] == 3 })
    }

    @Test func rejectsTriggersOutsideTheImageAndWrongShapes() {
        expectAttackError(.invalidConfiguration) { _ = try Backdoor(trigger: Trigger(imageSide: 4, row: 3, column: 0, size: 2), target: 0) }
        expectAttackError(.invalidConfiguration) { _ = try Backdoor(trigger: Trigger(imageSide: 4, row: 0, column: 0, size: 1, value: 2), target: 0) }
        expectAttackError(.invalidConfiguration) { _ = try Backdoor(trigger: trigger, target: 10) }
        expectAttackError(.invalidConfiguration) { _ = try Backdoor(trigger: trigger, target: 1, rate: -0.1) }
        expectAttackError(.invalidInput) {
            var rng = SeededGenerator(seed: 1)
            _ = try Backdoor(target: 1).poison(samples(2), using: &rng)  // 28x28 trigger, 16 features
        }
    }
}
