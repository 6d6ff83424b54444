import FedArenaAttacks
import FedArenaCore
import Testing

@Suite struct AttackSuccessTests {
    /// 2x2 images: sample i has all pixels 0.1 · i.
    let test = LabeledSamples(
        features: (0..<5).flatMap { i in [Float](repeating: 0.1 * Float(i), count: 4) }, labels: [0, 1, 0, 2, 1],
        featureCount: 4, classCount: 3)

    @Test func targetedFlipUsesTheSourceClassSamples() throws {
        let (samples, target) = try #require(AttackSuccess.evaluationSet(for: .targetedFlip(source: 0, target: 2), testSet: test))
        #expect(target == 2 && samples.labels == [0, 0] && samples.features == [0, 0, 0, 0, 0.2, 0.2, 0.2, 0.2])
        #expect(AttackSuccess.rate(predictions: [2, 0], target: 2) == 0.5)
    }

    @Test func backdoorStampsTheNonTargetSamples() throws {
        let trigger = Trigger(imageSide: 2, row: 1, column: 1, size: 1, value: 1)
        let (samples, target) = try #require(AttackSuccess.evaluationSet(for: .backdoor(trigger: trigger, target: 1), testSet: test))
        #expect(target == 1 && samples.labels == [0, 0, 2])
        #expect(samples.features == [0, 0, 0, 1, 0.2, 0.2, 0.2, 1, 0.3, 0.3, 0.3, 1])
        let asr = AttackSuccess.rate(objective: .backdoor(trigger: trigger, target: 1), testSet: test) { features, rows in
            #expect(features.count == rows * 4)
            return [1, 1, 0]
        }
        #expect(asr == 2.0 / 3.0)
    }

    @Test func untargetedAndEmptyHaveNoRate() {
        #expect(AttackSuccess.evaluationSet(for: .untargeted, testSet: test) == nil)
        #expect(AttackSuccess.rate(predictions: [], target: 1) == nil)
        #expect(AttackSuccess.rate(predictions: [3, 3, 1, 3], target: 3) == 0.75)
        #expect(AttackSuccess.rate(objective: .untargeted, testSet: test) { _, _ in [] } == nil)
    }
}
