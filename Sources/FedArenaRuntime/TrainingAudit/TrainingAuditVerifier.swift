import FedArenaCore
import FedArenaModels
import FedArenaNumerics

/// The coordinator's side of `training-audit`: which committed steps to open, and the exact
/// recomputation of each opened step against the client's commitment (Proof-of-Learning,
/// Jia et al. 2021, IEEE S&P: verify a few steps of the training transcript, chosen after the
/// transcript is fixed, with the largest updates among them).
///
/// **Challenge.** For a commitment of `S` steps the coordinator opens step `S` (its weights are
/// `w + Δ`, which binds the commitment to the update), the `largestSteps` other steps with the
/// largest committed norms, and `randomSteps` steps drawn uniformly from the rest by
/// `SeededGenerator(seed, [trainingAudit, round, client, first 8 bytes of the root])`. The draw
/// depends on the root, so it exists only once the UPDATE has arrived. (A client that knows
/// the scenario seed, as arena clients do, could grind roots to steer it; a deployment keeps
/// the seed from clients.) A fraction `p` of poisoned steps is then opened with probability at
/// least `1 − (1 − p)^k` for `k = randomSteps`, and one fabricated large jump always.
///
/// **Verification** of step `s`, in order (the first failure is the verdict):
/// 1. the claimed leaf's Merkle proof leads to the root (`proof does not verify`);
/// 2. the batch hashes to the leaf's batch hash and has the rows step `s` takes from `n`
///    samples in batches of `B` (`wrong batch`);
/// 3. the weights before are the global model (`s = 1`), or hash to the proven leaf `s − 1`
///    (`wrong weights`);
/// 4. one SGD step from them on the batch, recomputed with the same kernels, hashes to the
///    leaf's weights hash with the leaf's norm, which is also the norm the commitment lists
///    (`step mismatch`);
/// 5. for `s = S`, `w_S − w` is the update bit for bit (`update mismatch`).
///
/// Exactness: the recomputation is bit-identical when coordinator and client run the same build
/// and BLAS kernels (float32 SGD is deterministic for a fixed kernel and thread count; sgemm of
/// a mini-batch runs on one thread). Other builds need a tolerance, which a hash cannot carry:
/// that would need the weights after the step in the opening (not implemented).
public struct TrainingAuditVerifier: Sendable {
    /// How many steps to open.
    public let request: TrainingAuditRequest
    let model: any Model
    let trainer: LocalTrainer.Configuration
    let seed: UInt64

    /// Creates a verifier.
    /// - Parameters:
    ///   - request: the steps to open.
    ///   - model: the scenario's model.
    ///   - trainer: the local training hyper-parameters.
    ///   - seed: the scenario seed.
    /// - Throws: ``RuntimeError`` `.configuration` with momentum or weight decay, or a model with
    ///   dropout (a step would depend on state no opening carries).
    public init(request: TrainingAuditRequest, model: any Model, trainer: LocalTrainer.Configuration, seed: UInt64, modelSpec: ModelSpec) throws(RuntimeError) {
        guard trainer.optimizer.isPlain else {
            throw RuntimeError(
                .configuration, "training-audit recomputes plain SGD steps: set training.momentum and training.weight_decay to 0")
        }
        if case .cnn(let layers) = modelSpec, layers.contains(where: { if case .dropout = $0 { true } else { false } }) {
            throw RuntimeError(.configuration, "training-audit cannot recompute steps with dropout (the masks are not opened): remove the dropout layers")
        }
        self.request = request
        self.model = model
        self.trainer = trainer
        self.seed = seed
    }

    /// The steps a client with `sampleCount` samples takes: `E · ⌈n / B⌉`.
    public func expectedSteps(sampleCount: Int) -> Int {
        trainer.epochs * ((sampleCount + trainer.batchSize - 1) / trainer.batchSize)
    }

    /// The rows of step `step` (1-based) for `sampleCount` samples.
    func rows(ofStep step: Int, sampleCount: Int) -> Int {
        let perEpoch = (sampleCount + trainer.batchSize - 1) / trainer.batchSize
        let position = (step - 1) % perEpoch
        return position == perEpoch - 1 ? sampleCount - position * trainer.batchSize : trainer.batchSize
    }

    /// Why an UPDATE's commitment cannot be audited, or `nil` when a challenge can go out.
    /// - Parameter update: the update, with its commitment.
    /// - Returns: a failed verdict, or `nil`.
    public func commitmentProblem(_ update: ClientUpdate) -> TrainingAuditVerdict? {
        guard let commitment = update.commitment else {
            return TrainingAuditVerdict(failure: .missingCommitment, message: "the UPDATE carried no training commitment", openedSteps: [])
        }
        let expected = expectedSteps(sampleCount: update.sampleCount)
        if commitment.root.count != 32 {
            return TrainingAuditVerdict(failure: .badCommitment, message: "the root has \(commitment.root.count) bytes, not 32", openedSteps: [])
        }
        if commitment.stepCount != expected {
            return TrainingAuditVerdict(
                failure: .badCommitment,
                message: "\(commitment.stepCount) committed steps, but \(update.sampleCount) samples in batches of \(trainer.batchSize) over \(trainer.epochs) epochs take \(expected)",
                openedSteps: [])
        }
        if let bad = commitment.stepNorms.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            return TrainingAuditVerdict(failure: .badCommitment, message: "the norm of step \(bad + 1) is \(commitment.stepNorms[bad])", openedSteps: [])
        }
        return nil
    }

    /// The steps to open, ascending.
    /// - Parameters:
    ///   - commitment: the client's commitment (validated by ``commitmentProblem(_:)``).
    ///   - round: the round.
    ///   - client: the client.
    /// - Returns: 1-based steps: the last, the largest-norm and the random ones.
    public func challenge(_ commitment: TrainingCommitment, round: Int, client: ClientID) -> [Int] {
        let count = commitment.stepCount
        guard count > 0 else { return [] }
        var chosen: Set<Int> = [count]
        let others = Array(1..<count)
        let byNorm = others.sorted { a, b in
            let (na, nb) = (commitment.stepNorms[a - 1], commitment.stepNorms[b - 1])
            return na != nb ? na > nb : a < b
        }
        for step in byNorm.prefix(request.largestSteps) { chosen.insert(step) }
        let rest = others.filter { !chosen.contains($0) }
        var prefix: UInt64 = 0
        for byte in commitment.root.prefix(8) { prefix = prefix << 8 | UInt64(byte) }
        var generator = SeededGenerator(seed: seed, stream: [RoundPlan.Stream.trainingAudit.rawValue, UInt64(round), UInt64(client.rawValue), prefix])
        for index in generator.sample(min(request.randomSteps, rest.count), from: rest.count) { chosen.insert(rest[index]) }
        return chosen.sorted()
    }

    /// Verifies a client's openings.
    /// - Parameters:
    ///   - update: the client's update with its commitment.
    ///   - global: the global model of the round.
    ///   - round: the round.
    ///   - openings: what the client opened, or `nil` when no OPENING arrived in time.
    /// - Returns: the verdict (the opened batches as samples when it passed).
    public func verify(_ update: ClientUpdate, global: ParameterVector, round: Int, openings: [StepOpening]?) -> TrainingAuditVerdict {
        if let problem = commitmentProblem(update) { return problem }
        let commitment = update.commitment!
        let steps = challenge(commitment, round: round, client: update.client)
        func fail(_ failure: TrainingAuditVerdict.Failure, _ message: String) -> TrainingAuditVerdict {
            TrainingAuditVerdict(failure: failure, message: message, openedSteps: steps)
        }
        guard let openings else { return fail(.noOpening, "no OPENING for steps \(steps) arrived before the deadline") }
        guard openings.map(\.step) == steps else {
            return fail(.wrongSteps, "opened steps \(openings.map(\.step)), the challenge asked for \(steps)")
        }
        let trainer = LocalTrainer(model: model, configuration: trainer)
        let total = commitment.stepCount
        var samples = LabeledSamples(features: [], labels: [], featureCount: model.inputCount, classCount: model.classCount)
        for opening in openings {
            let s = opening.step
            guard MerkleTree.verify(leaf: StepHashing.leafHash(step: s, leaf: opening.leaf), index: s - 1, leafCount: total, proof: opening.proof, root: commitment.root) else {
                return fail(.proofInvalid, "step \(s): the claimed leaf's Merkle proof does not lead to the committed root")
            }
            let batch = opening.batch
            let rows = rows(ofStep: s, sampleCount: update.sampleCount)
            guard batch.featureCount == model.inputCount, batch.count == rows else {
                return fail(.wrongBatch, "step \(s): the batch has \(batch.count) rows of \(batch.featureCount) features, the step takes \(rows) of \(model.inputCount)")
            }
            guard batch.labels.allSatisfy({ $0 >= 0 && Int($0) < model.classCount }), Statistics.allFinite(batch.features) else {
                return fail(.wrongBatch, "step \(s): the batch has labels outside 0..<\(model.classCount) or non-finite features")
            }
            guard StepHashing.batchHash(batch) == opening.leaf.batchHash else {
                return fail(.wrongBatch, "step \(s): the opened batch does not hash to the committed batch hash")
            }
            guard opening.weightsBefore.count == model.parameterCount else {
                return fail(.wrongWeights, "step \(s): \(opening.weightsBefore.count) weights opened, the model has \(model.parameterCount)")
            }
            if s == 1 {
                guard opening.weightsBefore.values.elementsEqual(global.values, by: { $0.bitPattern == $1.bitPattern }) else {
                    return fail(.wrongWeights, "step 1: the weights before it are not the global model")
                }
            } else {
                guard let previous = opening.previousLeaf,
                    MerkleTree.verify(
                        leaf: StepHashing.leafHash(step: s - 1, leaf: previous), index: s - 2, leafCount: total, proof: opening.previousProof,
                        root: commitment.root)
                else {
                    return fail(.proofInvalid, "step \(s): the leaf of step \(s - 1) is missing or its proof does not lead to the root")
                }
                guard StepHashing.weightsHash(opening.weightsBefore.values) == previous.weightsHash else {
                    return fail(.wrongWeights, "step \(s): the weights before it do not hash to the weights committed after step \(s - 1)")
                }
            }
            let after: [Float]
            do {
                after = try trainer.replayStep(from: opening.weightsBefore, batch: batch)
            } catch {
                return fail(.stepMismatch, "step \(s) cannot be recomputed: \(error)")
            }
            let norm = opening.weightsBefore.values.withUnsafeBufferPointer { b in after.withUnsafeBufferPointer { StepHashing.norm(before: b, after: $0) } }
            guard StepHashing.weightsHash(after) == opening.leaf.weightsHash else {
                return fail(.stepMismatch, "step \(s): one SGD step from the opened weights on the opened batch does not give the committed weights")
            }
            guard norm.bitPattern == opening.leaf.norm.bitPattern, norm.bitPattern == commitment.stepNorms[s - 1].bitPattern else {
                return fail(
                    .stepMismatch, "step \(s): the recomputed norm \(norm) differs from the leaf's \(opening.leaf.norm) or the listed \(commitment.stepNorms[s - 1])")
            }
            if s == total {
                let delta = VectorMath.difference(after, global.values)
                guard update.delta.count == delta.count, delta.elementsEqual(update.delta.values, by: { $0.bitPattern == $1.bitPattern }) else {
                    return fail(.updateMismatch, "the last step's weights minus the global model are not the update")
                }
            }
            samples.features += batch.features
            samples.labels += batch.labels
        }
        return TrainingAuditVerdict(
            failure: nil, message: "\(openings.count) of \(total) steps opened and recomputed exactly (\(samples.count) samples)", openedSteps: steps,
            samples: samples)
    }
}
