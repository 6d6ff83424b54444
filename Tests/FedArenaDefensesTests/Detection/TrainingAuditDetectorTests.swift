import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics
import Testing

@Suite struct TrainingAuditDetectorTests {
    static let updates = (0..<3).map { ClientUpdate(client: ClientID($0), round: 1, sampleCount: 1, delta: ParameterVector([0])) }

    @Test func aFailedAuditScoresOneWithItsReasonAndAPassedOneZero() throws {
        var context = detectionContext(dimension: 1)
        context.trainingAudits = [
            ClientID(0): TrainingAuditVerdict(failure: nil, message: "7 of 38 steps opened", openedSteps: [1, 38]),
            ClientID(1): TrainingAuditVerdict(failure: .wrongBatch, message: "step 3: the opened batch does not hash", openedSteps: [3]),
        ]
        var rng = SeededGenerator(seed: 1)
        let output = try TrainingAuditDetector().detect(Self.updates, context: context, using: &rng)
        #expect(output.suspicions[ClientID(0)]?.score == 0)
        #expect(output.suspicions[ClientID(0)]?.features["opened_steps"] == 2)
        #expect(output.suspicions[ClientID(1)]?.score == 1)
        #expect(output.suspicions[ClientID(1)]?.reason == "training audit failed (wrong batch): step 3: the opened batch does not hash")
        // A client the runtime did not audit is not trusted.
        #expect(output.suspicions[ClientID(2)]?.score == 1)
    }

    @Test func itAsksForTheAuditAndRefusesToRunWithoutVerdicts() throws {
        let detector = try TrainingAuditDetector(randomSteps: 5, largestSteps: 1)
        #expect(detector.requirements.trainingAudit == TrainingAuditRequest(randomSteps: 5, largestSteps: 1))
        #expect(detector.requirements.trainingAudit?.maxOpened == 7)
        var rng = SeededGenerator(seed: 1)
        #expect(throws: DetectionError.self) { try detector.detect(Self.updates, context: detectionContext(dimension: 1), using: &rng) }
        #expect(throws: DetectionError.self) { try TrainingAuditDetector(randomSteps: -1) }
        #expect(throws: DetectionError.self) { try TrainingAuditDetector(randomSteps: 60, largestSteps: 4) }
    }

    @Test func theRegistryBuildsItFromYAMLOptions() throws {
        let detector = try DetectorRegistry.standard.make(
            ComponentSpec(kind: "training-audit", options: ["random_steps": .int(3), "largest_steps": .int(0)], keyPath: "defense.detection[0]"))
        #expect(detector.requirements.trainingAudit == TrainingAuditRequest(randomSteps: 3, largestSteps: 0))
        #expect(throws: ConfigError.self) {
            try DetectorRegistry.standard.make(ComponentSpec(kind: "training-audit", options: ["random_step": .int(3)], keyPath: "defense.detection[0]"))
        }
    }
}
