import FedArenaCore
import FedArenaModels
import FedArenaNumerics
@testable import FedArenaRuntime
import Testing

/// The coordinator's verification of opened steps: an honest transcript passes, and each way of
/// opening a step the client did not take is flagged with its own reason.
@Suite struct TrainingAuditVerifierTests {
    /// Softmax regression 4 → 3, 10 samples, batches of 3 over 2 epochs: steps of 3, 3, 3, 1 rows, 8 in all.
    static let model = try! MLP(inputs: 4, classes: 3)
    static let trainer = try! LocalTrainer.Configuration(epochs: 2, batchSize: 3, optimizer: SGD(learningRate: 0.5))
    static let samples = LabeledSamples(
        features: (0..<40).map { Float(($0 * 7) % 11) / 10 }, labels: (0..<10).map { Int32($0 % 3) }, featureCount: 4, classCount: 3)
    static let global = ParameterVector((0..<15).map { Float($0 % 5) / 10 - 0.2 })

    static func verifier(random: Int = 2, largest: Int = 1) throws -> TrainingAuditVerifier {
        try TrainingAuditVerifier(
            request: TrainingAuditRequest(randomSteps: random, largestSteps: largest), model: model, trainer: trainer, seed: 3, modelSpec: .softmax)
    }

    /// Trains honestly with a transcript; returns the update (with commitment) and the transcript.
    static func honest(client: Int = 4) throws -> (ClientUpdate, StepTranscript) {
        let transcript = StepTranscript(global: global, featureCount: 4, classCount: 3)
        let result = try LocalTrainer(model: model, configuration: trainer).train(
            from: global, on: samples, epochGenerator: { SeededGenerator(seed: 9, stream: [UInt64($0)]) },
            observe: { step, x, y, w in transcript.record(step: step, inputs: x, labels: y, weightsAfter: w) })
        var update = ClientUpdate(client: ClientID(client), round: 2, sampleCount: samples.count, delta: result.delta)
        update.commitment = transcript.commitment()
        return (update, transcript)
    }

    static func verdict(_ update: ClientUpdate, _ openings: [StepOpening]?) throws -> TrainingAuditVerdict {
        try verifier().verify(update, global: global, round: 2, openings: openings)
    }

    @Test func anHonestTranscriptPassesAndItsOpenedBatchesAreTheSamples() throws {
        let (update, transcript) = try Self.honest()
        #expect(update.commitment?.stepCount == 8)
        let steps = try Self.verifier().challenge(update.commitment!, round: 2, client: update.client)
        let verdict = try Self.verdict(update, transcript.openings(steps))
        #expect(verdict.passed, "\(verdict.message)")
        #expect(verdict.openedSteps == steps)
        // Step 4 and 8 have 1 row (10 = 3 + 3 + 3 + 1), the others 3.
        #expect(verdict.samples?.count == steps.map { $0 % 4 == 0 ? 1 : 3 }.reduce(0, +))
    }

    @Test func theChallengeOpensTheLastTheLargestAndRandomStepsAndDependsOnTheRoot() throws {
        let (update, _) = try Self.honest()
        let commitment = update.commitment!
        let verifier = try Self.verifier(random: 2, largest: 1)
        let steps = verifier.challenge(commitment, round: 2, client: update.client)
        let largest = (1..<8).max { commitment.stepNorms[$0 - 1] < commitment.stepNorms[$1 - 1] }!
        #expect(steps.count == 4)
        #expect(steps.contains(8) && steps.contains(largest))
        #expect(steps == steps.sorted() && Set(steps).count == 4)
        #expect(verifier.challenge(commitment, round: 2, client: update.client) == steps)
        // Over many roots every earlier step gets drawn: the random part is not fixed.
        var seen = Set<Int>()
        for byte in 0..<64 {
            var other = commitment
            other.root[0] = UInt8(byte)
            seen.formUnion(verifier.challenge(other, round: 2, client: update.client))
        }
        #expect(seen == Set(1...8))
    }

    @Test func aBatchOtherThanTheCommittedOneIsAWrongBatch() throws {
        let (update, transcript) = try Self.honest()
        let steps = try Self.verifier().challenge(update.commitment!, round: 2, client: update.client)
        var openings = transcript.openings(steps)
        openings[0].batch.features[0] += 0.1
        #expect(try Self.verdict(update, openings).failure == .wrongBatch)
        var relabelled = transcript.openings(steps)
        relabelled[0].batch.labels[0] = (relabelled[0].batch.labels[0] + 1) % 3
        #expect(try Self.verdict(update, relabelled).failure == .wrongBatch)
    }

    @Test func weightsOtherThanTheCommittedOnesAreWrongWeights() throws {
        let (update, transcript) = try Self.honest()
        let steps = try Self.verifier().challenge(update.commitment!, round: 2, client: update.client)
        var openings = transcript.openings(steps)
        let index = openings.count - 1  // the last step (8 > 1), bound by leaf 7
        openings[index].weightsBefore.values[3] += 0.01
        let verdict = try Self.verdict(update, openings)
        #expect(verdict.failure == .wrongWeights, "\(verdict.message)")
        // Step 1's weights before must be the global model.
        var shifted = Self.global
        shifted.values[0] += 0.01
        #expect(try firstStepVerdict(weightsBefore: shifted) == .wrongWeights)
    }

    /// The verdict on a one-step client (3 samples, 1 epoch: the challenge is `[1]`) whose
    /// opening claims `weightsBefore` instead of the global model.
    func firstStepVerdict(weightsBefore: ParameterVector) throws -> TrainingAuditVerdict.Failure? {
        let one = try TrainingAuditVerifier(
            request: TrainingAuditRequest(randomSteps: 2, largestSteps: 1), model: Self.model,
            trainer: try LocalTrainer.Configuration(epochs: 1, batchSize: 3, optimizer: SGD(learningRate: 0.5)), seed: 3, modelSpec: .softmax)
        let batch = Self.samples.subset(0..<3)
        let transcript = StepTranscript(global: Self.global, featureCount: 4, classCount: 3)
        let result = try LocalTrainer(model: Self.model, configuration: one.trainer).train(
            from: Self.global, on: batch, epochGenerator: { SeededGenerator(seed: 9, stream: [UInt64($0)]) },
            observe: { step, x, y, w in transcript.record(step: step, inputs: x, labels: y, weightsAfter: w) })
        var single = ClientUpdate(client: ClientID(1), round: 2, sampleCount: 3, delta: result.delta)
        single.commitment = transcript.commitment()
        var opened = transcript.openings([1])
        #expect(one.verify(single, global: Self.global, round: 2, openings: opened).passed)
        opened[0].weightsBefore = weightsBefore
        return one.verify(single, global: Self.global, round: 2, openings: opened).failure
    }

    @Test func aProofThatDoesNotLeadToTheRootIsFlaggedAsSuch() throws {
        let (update, transcript) = try Self.honest()
        let steps = try Self.verifier().challenge(update.commitment!, round: 2, client: update.client)
        var openings = transcript.openings(steps)
        openings[0].proof[0][5] ^= 0x40
        #expect(try Self.verdict(update, openings).failure == .proofInvalid)
        // A claimed leaf that differs from the committed one (a different norm) cannot be proven either.
        var claimed = transcript.openings(steps)
        claimed[0].leaf.norm += 1
        #expect(try Self.verdict(update, claimed).failure == .proofInvalid)
    }

    @Test func aFabricatedStepIsAStepMismatch() throws {
        // The client commits to a step it did not take: the weights after step 5 are the real
        // ones plus a jump, and every later step starts from them (a consistent forgery).
        let (honestUpdate, transcript) = try Self.honest()
        let real = transcript.openings([6])[0].weightsBefore.values
        let batch = transcript.openings([5])[0].batch
        transcript.forge(step: 5, batch: batch, weightsAfter: real.map { $0 + 1 })
        var update = honestUpdate
        update.commitment = transcript.commitment()
        // The jump has the largest norm, so the challenge opens step 5 for certain.
        let steps = try Self.verifier(random: 0, largest: 1).challenge(update.commitment!, round: 2, client: update.client)
        #expect(steps.contains(5))
        let verdict = try Self.verifier(random: 0, largest: 1).verify(update, global: Self.global, round: 2, openings: transcript.openings(steps))
        #expect(verdict.failure == .stepMismatch, "\(verdict.message)")
    }

    @Test func anUpdateThatIsNotTheLastStepsWeightsIsAnUpdateMismatch() throws {
        let (honestUpdate, transcript) = try Self.honest()
        var update = honestUpdate
        update.delta.values[0] *= 2
        let steps = try Self.verifier().challenge(update.commitment!, round: 2, client: update.client)
        #expect(try Self.verdict(update, transcript.openings(steps)).failure == .updateMismatch)
    }

    @Test func missingBadAndMisdirectedAnswersHaveTheirOwnReasons() throws {
        let (honestUpdate, transcript) = try Self.honest()
        var noCommitment = honestUpdate
        noCommitment.commitment = nil
        #expect(try Self.verdict(noCommitment, nil).failure == .missingCommitment)
        var short = honestUpdate
        short.commitment!.stepNorms.removeLast()
        #expect(try Self.verdict(short, nil).failure == .badCommitment)
        var claimsMore = honestUpdate
        claimsMore.sampleCount = 13  // 5 steps per epoch: 10 in all, not 8
        #expect(try Self.verdict(claimsMore, nil).failure == .badCommitment)
        #expect(try Self.verdict(honestUpdate, nil).failure == .noOpening)
        let steps = try Self.verifier().challenge(honestUpdate.commitment!, round: 2, client: honestUpdate.client)
        #expect(try Self.verdict(honestUpdate, transcript.openings(Array(steps.dropFirst()))).failure == .wrongSteps)
    }

    @Test func momentumAndDropoutAreRefused() throws {
        let momentum = try LocalTrainer.Configuration(epochs: 1, batchSize: 3, optimizer: SGD(learningRate: 0.5, momentum: 0.9))
        #expect(throws: RuntimeError.self) {
            try TrainingAuditVerifier(request: TrainingAuditRequest(randomSteps: 1, largestSteps: 0), model: Self.model, trainer: momentum, seed: 1, modelSpec: .softmax)
        }
        #expect(throws: RuntimeError.self) {
            try TrainingAuditVerifier(
                request: TrainingAuditRequest(randomSteps: 1, largestSteps: 0), model: Self.model, trainer: Self.trainer, seed: 1,
                modelSpec: .cnn(layers: [.dropout(rate: 0.5), .dense(units: 3)]))
        }
    }
}
