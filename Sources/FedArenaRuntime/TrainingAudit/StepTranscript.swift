import FedArenaCore

/// A client's record of one round's local steps for the training audit: it builds the
/// commitment while the trainer runs (as the trainer's step observer) and answers a challenge
/// with openings afterwards.
///
/// It keeps the weights before every step and every batch until the round's challenge is
/// answered (`(S + 1)·d` floats plus the client's samples), so a process frees it once the
/// OPENING is sent. Not `Sendable`: it belongs to the task that trains.
final class StepTranscript {
    private let featureCount: Int
    private let classCount: Int
    /// `w_0 ... w_S`.
    private var weights: [[Float]]
    private var batches: [LabeledSamples] = []
    private var leaves: [StepLeaf] = []
    private var tree: MerkleTree?

    /// Starts a transcript from the global model `w_0`.
    /// - Parameters:
    ///   - global: the global model the client starts from.
    ///   - featureCount: values per sample.
    ///   - classCount: the number of classes.
    init(global: ParameterVector, featureCount: Int, classCount: Int) {
        weights = [global.values]
        self.featureCount = featureCount
        self.classCount = classCount
    }

    /// Records one step (the trainer's ``LocalTrainer/StepObserver``).
    func record(step: Int, inputs: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>, weightsAfter: UnsafeBufferPointer<Float>) {
        precondition(step == leaves.count + 1, "steps are recorded in order")
        let before = weights[weights.count - 1]
        let norm = before.withUnsafeBufferPointer { StepHashing.norm(before: $0, after: weightsAfter) }
        leaves.append(
            StepLeaf(
                batchHash: StepHashing.batchHash(inputs: inputs, labels: labels, featureCount: featureCount),
                weightsHash: StepHashing.weightsHash(weightsAfter), norm: norm))
        weights.append(Array(weightsAfter))
        batches.append(LabeledSamples(features: Array(inputs), labels: Array(labels), featureCount: featureCount, classCount: classCount))
        tree = nil
    }

    /// Replaces the record of step `step` with a fabricated one (for tests and for attackers
    /// that forge their transcript): the batch and the weights after it.
    func forge(step: Int, batch: LabeledSamples, weightsAfter: [Float]) {
        let index = step - 1
        let norm = weights[index].withUnsafeBufferPointer { before in
            weightsAfter.withUnsafeBufferPointer { StepHashing.norm(before: before, after: $0) }
        }
        leaves[index] = StepLeaf(batchHash: StepHashing.batchHash(batch), weightsHash: StepHashing.weightsHash(weightsAfter), norm: norm)
        weights[index + 1] = weightsAfter
        batches[index] = batch
        tree = nil
    }

    /// The number of recorded steps.
    var stepCount: Int { leaves.count }

    /// The commitment over the recorded steps, or `nil` when there were none.
    func commitment() -> TrainingCommitment? {
        guard !leaves.isEmpty else { return nil }
        return TrainingCommitment(root: merkle().root, stepNorms: leaves.map(\.norm))
    }

    /// The openings of the challenged steps (steps outside `1...stepCount` are skipped).
    /// - Parameter steps: the 1-based steps asked for.
    /// - Returns: one opening per valid step, in the order asked.
    func openings(_ steps: [Int]) -> [StepOpening] {
        guard !leaves.isEmpty else { return [] }
        let tree = merkle()
        return steps.filter { (1...leaves.count).contains($0) }.map { step in
            StepOpening(
                step: step, weightsBefore: ParameterVector(weights[step - 1]), batch: batches[step - 1], leaf: leaves[step - 1],
                proof: tree.proof(of: step - 1), previousLeaf: step > 1 ? leaves[step - 2] : nil,
                previousProof: step > 1 ? tree.proof(of: step - 2) : [])
        }
    }

    private func merkle() -> MerkleTree {
        if let tree { return tree }
        let built = MerkleTree(leaves: leaves.enumerated().map { StepHashing.leafHash(step: $0.offset + 1, leaf: $0.element) })
        tree = built
        return built
    }
}
