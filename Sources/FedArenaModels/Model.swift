import FedArenaCore
import FedArenaNumerics

/// A classifier whose parameters are one flat `Float` vector, trained with softmax cross-entropy.
///
/// The batch methods take unsafe buffers so that the training loop can call them on
/// preallocated memory without copies; the `ParameterVector` / `LabeledSamples` conveniences in
/// `Model+Samples.swift` check shapes and throw ``ModelError`` instead.
///
/// Inputs are row-major, `rows x inputCount`; logits are row-major, `rows x classCount`; the
/// loss is the mean over the batch of `-log softmax(z)_y`, computed stably as
/// `logsumexp(z) - z_y`.
///
/// ## Implementation requirements
/// - Be a value type: all mutable state lives in the caller's parameter buffers and
///   ``ModelWorkspace``, so one model value can serve many tasks at once.
/// - Use a fixed parameter layout and document it: aggregators compare updates coordinate by
///   coordinate.
/// - ``initialParameters(using:)`` draws only from the given generator, in a documented order,
///   so that the same seed gives the same bits in every process.
/// - Allocate nothing in ``lossAndGradient(parameters:inputs:labels:gradient:scale:accumulate:workspace:)``,
///   ``sgdStep(parameters:inputs:labels:learningRate:workspace:)`` and
///   ``logits(parameters:inputs:rows:into:workspace:)``: they run once per mini-batch.
/// - ``sgdStep(parameters:inputs:labels:learningRate:workspace:)`` must equal, up to float
///   rounding, `lossAndGradient` followed by `w -= learningRate * g`.
/// - Pass the finite-difference gradient check in `Tests/FedArenaModelsTests`.
public protocol Model: Sendable, CustomStringConvertible {
    /// Features per sample (784 for 28x28 images).
    var inputCount: Int { get }
    /// The number of classes (the width of the logits).
    var classCount: Int { get }
    /// The dimension of the flat parameter vector.
    var parameterCount: Int { get }

    /// Draws fresh parameters.
    /// - Parameter generator: the source of randomness; consumed in the model's documented order.
    /// - Returns: a vector of ``parameterCount`` values.
    func initialParameters(using generator: inout SeededGenerator) -> ParameterVector

    /// The number of scratch floats a workspace needs for batches of up to `batchCapacity` rows.
    /// - Parameter batchCapacity: the largest batch.
    /// - Returns: a float count, non-decreasing in `batchCapacity`.
    func workspaceSize(batchCapacity: Int) -> Int

    /// Computes the logits of a batch.
    /// - Parameters:
    ///   - parameters: ``parameterCount`` values.
    ///   - inputs: at least `rows * inputCount` values, row-major.
    ///   - rows: the batch size, at most the workspace's `batchCapacity`.
    ///   - logits: receives `rows * classCount` values, row-major.
    ///   - workspace: scratch from ``makeWorkspace(batchCapacity:)``.
    func logits(
        parameters: UnsafeBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>, rows: Int,
        into logits: UnsafeMutableBufferPointer<Float>, workspace: ModelWorkspace)

    /// Computes the mean cross-entropy of a batch and its gradient.
    ///
    /// The gradient `g` (of the mean loss) is written as `gradient = scale * g`, or added as
    /// `gradient += scale * g` when `accumulate` is true (so momentum and weight decay can build
    /// on a velocity buffer without an extra pass).
    /// - Parameters:
    ///   - parameters: ``parameterCount`` values.
    ///   - inputs: at least `labels.count * inputCount` values, row-major.
    ///   - labels: one class index in `0..<classCount` per row; `labels.count` is the batch size.
    ///   - gradient: ``parameterCount`` values, in the parameter layout; must not alias `parameters`.
    ///   - scale: the factor applied to the gradient.
    ///   - accumulate: add into `gradient` instead of overwriting it.
    ///   - workspace: scratch from ``makeWorkspace(batchCapacity:)``.
    /// - Returns: the mean cross-entropy over the batch.
    func lossAndGradient(
        parameters: UnsafeBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>,
        gradient: UnsafeMutableBufferPointer<Float>, scale: Float, accumulate: Bool, workspace: ModelWorkspace
    ) -> Double

    /// One plain SGD step `w -= learningRate * ∇loss(w)` on a batch, fused into the backward
    /// pass (each layer's weight gradient is added straight into the weights by `sgemm`).
    /// - Parameters:
    ///   - parameters: ``parameterCount`` values, updated in place.
    ///   - inputs: at least `labels.count * inputCount` values, row-major.
    ///   - labels: one class index in `0..<classCount` per row.
    ///   - learningRate: the step size.
    ///   - workspace: scratch from ``makeWorkspace(batchCapacity:)``.
    /// - Returns: the mean cross-entropy over the batch, before the step.
    func sgdStep(
        parameters: UnsafeMutableBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>,
        labels: UnsafeBufferPointer<Int32>, learningRate: Float, workspace: ModelWorkspace
    ) -> Double
}

extension Model {
    /// Allocates scratch for batches of up to `batchCapacity` rows.
    /// - Parameter batchCapacity: the largest batch the workspace will serve.
    /// - Returns: a zeroed workspace of ``workspaceSize(batchCapacity:)`` floats.
    public func makeWorkspace(batchCapacity: Int) -> ModelWorkspace {
        ModelWorkspace(floatCount: workspaceSize(batchCapacity: batchCapacity), batchCapacity: batchCapacity)
    }
}
