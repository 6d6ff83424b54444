/// A client's commitment to every local training step of one round (`training-audit`,
/// verified local training in the manner of Proof-of-Learning: Jia et al. 2021, "Proof-of-Learning:
/// Definitions and Practice", IEEE S&P).
///
/// Step `s` (1-based, `1...stepCount`) is summarised by a ``StepLeaf``: the SHA-256 of its
/// batch (samples and labels), the SHA-256 of the weights after the step, and the step's update
/// norm `‖w_s − w_{s−1}‖₂`. ``root`` is the SHA-256 Merkle root over the leaves; the norms travel
/// in clear so the coordinator can open the largest steps. The commitment travels with the
/// UPDATE, before the client knows which steps it will have to open.
public struct TrainingCommitment: Sendable, Equatable {
    /// The Merkle root, 32 bytes.
    public var root: [UInt8]
    /// The update norm of each step, in step order (their count is the step count).
    public var stepNorms: [Float]

    /// Creates a commitment.
    /// - Parameters:
    ///   - root: the 32-byte Merkle root over the step leaves.
    ///   - stepNorms: each step's update norm, in step order.
    public init(root: [UInt8], stepNorms: [Float]) {
        self.root = root
        self.stepNorms = stepNorms
    }

    /// The number of committed steps `S`.
    public var stepCount: Int { stepNorms.count }
}

/// The committed summary of one local step (a Merkle leaf before hashing).
public struct StepLeaf: Sendable, Equatable {
    /// SHA-256 of the batch (see the runtime's `StepHashing`), 32 bytes.
    public var batchHash: [UInt8]
    /// SHA-256 of the weights after the step, 32 bytes.
    public var weightsHash: [UInt8]
    /// `‖w_s − w_{s−1}‖₂` as float32.
    public var norm: Float

    /// Creates a leaf.
    /// - Parameters:
    ///   - batchHash: the batch's hash.
    ///   - weightsHash: the hash of the weights after the step.
    ///   - norm: the step's update norm.
    public init(batchHash: [UInt8], weightsHash: [UInt8], norm: Float) {
        self.batchHash = batchHash
        self.weightsHash = weightsHash
        self.norm = norm
    }
}

/// What a client reveals for one challenged step: the weights before it, its batch, the
/// claimed leaf of the step (and of the step before, which binds the weights before), and the
/// Merkle proofs of both leaves.
public struct StepOpening: Sendable, Equatable {
    /// The 1-based step.
    public var step: Int
    /// `w_{s−1}` (the global model for step 1).
    public var weightsBefore: ParameterVector
    /// The step's batch.
    public var batch: LabeledSamples
    /// The claimed leaf of step `s`.
    public var leaf: StepLeaf
    /// Sibling hashes from leaf `s` up to the root.
    public var proof: [[UInt8]]
    /// The claimed leaf of step `s − 1` (`nil` for step 1).
    public var previousLeaf: StepLeaf?
    /// Sibling hashes from leaf `s − 1` up to the root (empty for step 1).
    public var previousProof: [[UInt8]]

    /// Creates an opening.
    /// - Parameters:
    ///   - step: the 1-based step.
    ///   - weightsBefore: the weights before the step.
    ///   - batch: the step's batch.
    ///   - leaf: the claimed leaf of the step.
    ///   - proof: its Merkle proof.
    ///   - previousLeaf: the claimed leaf of the previous step, `nil` for step 1.
    ///   - previousProof: its Merkle proof.
    public init(
        step: Int, weightsBefore: ParameterVector, batch: LabeledSamples, leaf: StepLeaf, proof: [[UInt8]], previousLeaf: StepLeaf?,
        previousProof: [[UInt8]]
    ) {
        self.step = step
        self.weightsBefore = weightsBefore
        self.batch = batch
        self.leaf = leaf
        self.proof = proof
        self.previousLeaf = previousLeaf
        self.previousProof = previousProof
    }
}

/// The coordinator's verdict on one client's training audit in one round.
public struct TrainingAuditVerdict: Sendable, Equatable {
    /// Why an audit failed. Raw values are the names in reasons and records.
    public enum Failure: String, Sendable, Equatable, CaseIterable {
        /// The UPDATE carried no commitment.
        case missingCommitment = "missing commitment"
        /// The commitment is malformed (step count not what the sample count implies, a norm not finite).
        case badCommitment = "bad commitment"
        /// No OPENING arrived before the round's deadline.
        case noOpening = "no opening"
        /// The OPENING opens other steps than the CHALLENGE asked for.
        case wrongSteps = "wrong steps"
        /// A claimed leaf's Merkle proof does not lead to the committed root.
        case proofInvalid = "proof does not verify"
        /// The opened batch is not the committed one (or is not a valid batch).
        case wrongBatch = "wrong batch"
        /// The opened weights before the step are not the committed ones (or not the global model for step 1).
        case wrongWeights = "wrong weights"
        /// Recomputing the step from the opened weights and batch gives other weights or another norm.
        case stepMismatch = "step mismatch"
        /// The last step's weights are not the global model plus the update.
        case updateMismatch = "update mismatch"
    }

    /// `nil` when every opened step verified.
    public var failure: Failure?
    /// What was checked or what failed, for people.
    public var message: String
    /// The steps that were opened (challenged), ascending.
    public var openedSteps: [Int]
    /// The opened batches, concatenated, when the audit passed (proven to be what the update
    /// was trained on); `nil` otherwise.
    public var samples: LabeledSamples?

    /// Creates a verdict.
    /// - Parameters:
    ///   - failure: the failure, or `nil` when the audit passed.
    ///   - message: a human-readable account.
    ///   - openedSteps: the challenged steps.
    ///   - samples: the verified opened samples.
    public init(failure: Failure?, message: String, openedSteps: [Int], samples: LabeledSamples? = nil) {
        self.failure = failure
        self.message = message
        self.openedSteps = openedSteps
        self.samples = samples
    }

    /// Whether every opened step verified.
    public var passed: Bool { failure == nil }
}
