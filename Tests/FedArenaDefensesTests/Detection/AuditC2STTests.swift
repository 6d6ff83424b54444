import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Testing

@Suite struct AuditC2STTests {
    @Test func revealedSyntheticSamplesScoreHigher() throws {
        let root = blobs(count: 60, seed: 1)
        // The reference generator collapses: narrow blobs.
        let reference = blobs(count: 60, spread: 0.3, seed: 2)
        let samples: [ClientID: LabeledSamples] = [
            ClientID(0): blobs(count: 8, seed: 10), ClientID(1): blobs(count: 8, seed: 11),
            ClientID(2): blobs(count: 8, spread: 0.3, seed: 12),
        ]
        let audit = try AuditC2ST(dimension: 128, bandwidth: 3)
        let scores = try audit.audit(samples: samples, rootSet: root, referenceSynthetic: reference, seed: 4)
        let synthetic = try #require(scores[ClientID(2)])
        #expect(synthetic.score > 0.7)
        #expect(scores[ClientID(0)]!.score < 0.4 && scores[ClientID(1)]!.score < 0.4)
        #expect(synthetic.reason.contains("16 revealed samples"))
    }

    @Test func detectNeedsReferenceSamplesAndScoresSilentClientsZero() throws {
        let root = blobs(count: 20, seed: 1)
        let updates = (0..<2).map { ClientUpdate(client: ClientID($0), round: 1, sampleCount: 1, delta: ParameterVector([0])) }
        let context = detectionContext(dimension: 1, rootSet: root)
        let pipeline = DetectionPipeline(detectors: [try AuditC2ST(dimension: 32, bandwidth: 3, iterations: 20)], policy: .standard)
        var rng = SeededGenerator(seed: 1)
        #expect(throws: DetectionError.self) { try pipeline.run(updates, context: context, using: &rng) }
        var ready = context
        ready.revealedSamples = [ClientID(0): blobs(count: 3, seed: 5)]
        ready.referenceSynthetic = blobs(count: 20, spread: 0.2, seed: 6)
        #expect(pipeline.requirements == DetectorRequirements(revealedSamples: 16))
        let report = try pipeline.run(updates, context: ready, using: &rng)
        #expect(report.suspicions["audit-c2st"]?[ClientID(1)] == Suspicion(score: 0, reason: "revealed no audit samples"))
        #expect(report.suspicions["audit-c2st"]?[ClientID(0)] != nil)
    }
}
