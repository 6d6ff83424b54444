import FedArenaCore
import FedArenaNumerics

/// Multinomial logistic regression: logits `z = x W + b`, softmax cross-entropy.
///
/// Parameter layout: `W` (`inputs x classes`, row-major) then `b` (`classes`); 7,850 values
/// for 784 → 10. Initialisation: `W ~ N(0, sqrt(2/inputs))` (He et al. 2015, as for ``MLP``,
/// so that a softmax scenario and an MLP scenario draw their first layer the same way), `b = 0`.
public struct SoftmaxRegression: Model, Equatable {
    /// Features per sample.
    public let inputs: Int
    /// The number of classes.
    public let classes: Int
    let stack: DenseStack

    /// Creates a softmax regression.
    /// - Parameters:
    ///   - inputs: features per sample.
    ///   - classes: the number of classes.
    /// - Throws: ``ModelError/Code/invalidConfiguration`` when a size is not positive.
    public init(inputs: Int = 784, classes: Int = 10) throws(ModelError) {
        guard inputs > 0, classes > 0 else {
            throw ModelError(.invalidConfiguration, "softmax regression needs positive sizes, got \(inputs) → \(classes)")
        }
        self.inputs = inputs
        self.classes = classes
        stack = DenseStack(widths: [inputs, classes])
    }

    public var description: String { "softmax(\(inputs)-\(classes))" }
    public var inputCount: Int { inputs }
    public var classCount: Int { classes }
    public var parameterCount: Int { stack.parameterCount }

    public func initialParameters(using generator: inout SeededGenerator) -> ParameterVector {
        stack.initialParameters(using: &generator)
    }

    public func workspaceSize(batchCapacity: Int) -> Int { stack.workspaceSize(batchCapacity: batchCapacity) }

    public func logits(
        parameters: UnsafeBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>, rows: Int,
        into logits: UnsafeMutableBufferPointer<Float>, workspace: ModelWorkspace
    ) {
        stack.logits(parameters: parameters, inputs: inputs, rows: rows, into: logits, workspace: workspace)
    }

    public func lossAndGradient(
        parameters: UnsafeBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>,
        gradient: UnsafeMutableBufferPointer<Float>, scale: Float, accumulate: Bool, workspace: ModelWorkspace
    ) -> Double {
        stack.lossAndGradient(
            parameters: parameters, inputs: inputs, labels: labels, gradient: gradient, scale: scale,
            accumulate: accumulate, workspace: workspace)
    }

    public func sgdStep(
        parameters: UnsafeMutableBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>,
        labels: UnsafeBufferPointer<Int32>, learningRate: Float, workspace: ModelWorkspace
    ) -> Double {
        stack.sgdStep(
            parameters: parameters, inputs: inputs, labels: labels, learningRate: learningRate, workspace: workspace)
    }
}
