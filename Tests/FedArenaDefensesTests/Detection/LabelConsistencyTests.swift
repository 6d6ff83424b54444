import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Testing

@Suite struct LabelConsistencyTests {
    /// Two well-separated blobs (class c has mean 2 on the coordinates j ≡ c mod 2, 0 elsewhere;
    /// unit noise in 10 dimensions): a softmax regression tells them apart almost always, so
    /// correct labels cost little and swapped labels a lot.
    static let root = blobs(count: 40, seed: 1)
    static let detector = try! LabelConsistency(epochs: 10)

    @Test func correctLabelsAreConsistentAndFlippedLabelsAreNot() throws {
        let reference = try Self.detector.reference(rootSet: Self.root)
        let honest = blobs(count: 16, seed: 20)
        var flipped = honest
        flipped.labels = flipped.labels.map { 1 - $0 }
        // Under the null (real data, correct labels) z is about standard normal; with every
        // label swapped each loss sits far above its class's out-of-fold mean.
        #expect(abs(reference.z(honest)) < 3)
        #expect(reference.z(flipped) > 10)
        // A quarter flipped (8 of 32) still stands out.
        var partial = honest
        for index in 0..<8 { partial.labels[index] = 1 - partial.labels[index] }
        #expect(reference.z(partial) > 5)
    }

    @Test func detectScoresEachClientsRevealedSamples() throws {
        var context = detectionContext(dimension: 1, rootSet: Self.root)
        var flipped = blobs(count: 10, seed: 21)
        flipped.labels = flipped.labels.map { 1 - $0 }
        context.revealedSamples = [ClientID(0): blobs(count: 10, seed: 22), ClientID(1): flipped]
        let updates = (0..<3).map { ClientUpdate(client: ClientID($0), round: 1, sampleCount: 1, delta: ParameterVector([0])) }
        var rng = SeededGenerator(seed: 1)
        let output = try Self.detector.detect(updates, context: context, using: &rng)
        #expect(output.suspicions[ClientID(0)]!.score < 0.5)
        #expect(output.suspicions[ClientID(1)]!.score > 0.99)
        #expect(output.suspicions[ClientID(1)]!.features["disagree"]! >= 18)
        #expect(output.suspicions[ClientID(2)] == Suspicion(score: 0, reason: "revealed no samples"))
        // Without a root set of at least 2 x folds samples it cannot judge.
        #expect(throws: DetectionError.self) { try Self.detector.detect(updates, context: detectionContext(dimension: 1), using: &rng) }
    }

    @Test func badOptionsAreRefused() {
        #expect(throws: DetectionError.self) { try LabelConsistency(folds: 1) }
        #expect(throws: DetectionError.self) { try LabelConsistency(learningRate: 0) }
        #expect(throws: DetectionError.self) { try LabelConsistency(zWidth: 0) }
    }
}
