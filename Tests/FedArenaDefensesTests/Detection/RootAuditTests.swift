import FedArenaCore
import FedArenaDefenses
import FedArenaModels
import FedArenaNumerics
import Testing

@Suite struct RootAuditTests {
    /// softmax(2-2): W row-major then b. Global model: class 0 ↔ x = (1, 0), class 1 ↔ x = (0, 1).
    let global: [Float] = [1, -1, -1, 1, 0, 0]
    let root = LabeledSamples(
        features: [1, 0, 0.9, 0.1, 1, 0.2, 0.8, 0, 1, 0.1, 0, 1, 0.1, 0.9, 0.2, 1, 0, 0.8, 0.1, 1],
        labels: [0, 0, 0, 0, 0, 1, 1, 1, 1, 1], featureCount: 2, classCount: 2)

    func round() -> [ClientUpdate] {
        var rng = SeededGenerator(seed: 4)
        var rows = (0..<8).map { _ in [Float](arrayLiteral: 0.1, -0.1, -0.1, 0.1, 0, 0).map { $0 + Float(0.02 * rng.normal()) } }
        rows.append([0, 0, 3, -3, 0, 0])          // client 8: flips class 1 to class 0
        rows.append([-0.6, 0.6, 0.6, -0.6, 0, 0]) // client 9: a boosted sign flip
        return rows.enumerated().map { ClientUpdate(client: ClientID($0.offset), round: 1, sampleCount: 5, delta: ParameterVector($0.element)) }
    }

    @Test func poisonedUpdatesHurtTheRootSet() throws {
        let audit = try RootAudit(model: try SoftmaxRegression(inputs: 2, classes: 2))
        let context = detectionContext(dimension: 6, rootSet: root, reference: [0.1, -0.1, -0.1, 0.1, 0, 0], global: global)
        let output = try run(audit, round(), context)
        #expect(Set(ranking(output).prefix(2)) == [8, 9])
        let flip = try #require(output.suspicions[ClientID(8)])
        #expect(flip.score > 0.95)
        #expect(flip.features["worst_class_drop"] == 1)
        #expect(flip.features["worst_class"] == 1)
        #expect(flip.features["loss_increase"]! > 0.5)
        #expect(flip.reason.contains("robust z"))
        let boosted = try #require(output.suspicions[ClientID(9)])
        #expect(boosted.features["root_cosine"]! < -0.99)
        #expect(boosted.score > 0.95)
        for honest in 0..<8 { #expect(output.suspicions[ClientID(honest)]!.score < 0.5) }
    }

    @Test func worksWithoutAReferenceUpdate() throws {
        let audit = try RootAudit(spec: .softmax, inputs: 2, classes: 2)
        let output = try run(audit, round(), detectionContext(dimension: 6, rootSet: root, global: global))
        #expect(ranking(output).first == 8)
        #expect(output.suspicions[ClientID(8)]!.features["root_cosine"] == nil)
    }

    @Test func needsARootSetAndMatchingShapes() throws {
        let audit = try RootAudit(model: try SoftmaxRegression(inputs: 2, classes: 2))
        #expect(throws: DetectionError.self) { try run(audit, round(), detectionContext(dimension: 6, global: global)) }
        let short = [ClientUpdate(client: ClientID(0), round: 1, sampleCount: 1, delta: ParameterVector([1, 2]))]
        #expect(throws: DetectionError.self) { try run(audit, short, detectionContext(dimension: 6, rootSet: root, global: global)) }
    }
}
