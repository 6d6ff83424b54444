import FedArenaNumerics

/// Preallocated scratch memory for a model's forward and backward passes.
///
/// A workspace holds activations, output deltas and small temporaries, so that a training step
/// or an evaluation chunk allocates nothing. Create one with ``Model/makeWorkspace(batchCapacity:)``
/// and reuse it for every batch of at most `batchCapacity` rows. A workspace is mutable scratch
/// owned by one task at a time: it is deliberately not `Sendable`.
public final class ModelWorkspace {
    /// The scratch floats; their layout is private to the model that asked for them.
    public let storage: UnsafeMutableBufferPointer<Float>
    /// The largest batch this workspace was sized for.
    public let batchCapacity: Int
    /// The source of training randomness (dropout masks), or `nil` to run the deterministic
    /// network (dropout off), as evaluation does. Models that draw advance it in place;
    /// ``LocalTrainer`` sets it to each epoch's generator after drawing the epoch's shuffle.
    public var trainingGenerator: SeededGenerator?

    /// Allocates `floatCount` zeroed floats of scratch for batches of up to `batchCapacity` rows.
    /// - Parameters:
    ///   - floatCount: the number of floats, from ``Model/workspaceSize(batchCapacity:)``.
    ///   - batchCapacity: the largest batch the workspace serves.
    public init(floatCount: Int, batchCapacity: Int) {
        precondition(floatCount >= 0 && batchCapacity > 0, "workspace sizes must be positive")
        storage = .allocate(capacity: max(floatCount, 1))
        storage.initialize(repeating: 0)
        self.batchCapacity = batchCapacity
    }

    deinit { storage.deallocate() }
}

@available(*, unavailable)
extension ModelWorkspace: Sendable {}
