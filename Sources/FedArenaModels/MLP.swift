import FedArenaCore
import FedArenaNumerics

/// A multi-layer perceptron: fully connected layers with ReLU between them and softmax
/// cross-entropy on the logits. Without hidden layers it is softmax regression
/// (``SoftmaxRegression``).
///
/// Parameter layout (identical to the numpy reference `fl_common.py`): for each layer `l`, the
/// weights `W_l` (`fan_in x fan_out`, row-major) then the bias `b_l`. For 784-100-10 that is
/// `W1 (784x100), b1 (100), W2 (100x10), b2 (10)`: 79,510 values.
///
/// Initialisation: He normal (He et al. 2015, "Delving deep into rectifiers: surpassing
/// human-level performance on ImageNet classification", §2.2), `W_l ~ N(0, sqrt(2/fan_in))`
/// drawn layer by layer in row-major order from the given generator; biases 0.
public struct MLP: Model, Equatable {
    /// Features per sample.
    public let inputs: Int
    /// The hidden layer widths, input side first.
    public let hidden: [Int]
    /// The number of classes.
    public let classes: Int
    let stack: DenseStack

    /// Creates an MLP.
    /// - Parameters:
    ///   - inputs: features per sample.
    ///   - hidden: hidden layer widths, input side first (empty gives softmax regression).
    ///   - classes: the number of classes.
    /// - Throws: ``ModelError/Code/invalidConfiguration`` when a width is not positive.
    public init(inputs: Int = 784, hidden: [Int], classes: Int = 10) throws(ModelError) {
        let widths = [inputs] + hidden + [classes]
        guard widths.allSatisfy({ $0 > 0 }) else {
            throw ModelError(.invalidConfiguration, "MLP widths must be positive, got \(widths)")
        }
        self.inputs = inputs
        self.hidden = hidden
        self.classes = classes
        stack = DenseStack(widths: widths)
    }

    /// `mlp(784-100-10)`, or `softmax(784-10)` without hidden layers.
    public var description: String {
        (hidden.isEmpty ? "softmax(" : "mlp(") + ([inputs] + hidden + [classes]).map(String.init).joined(separator: "-") + ")"
    }
    public var inputCount: Int { inputs }
    public var classCount: Int { classes }
    public var parameterCount: Int { stack.parameterCount }

    /// The offset of layer `layer`'s weights in the flat vector (its bias follows them).
    /// - Parameter layer: 0 for the input layer.
    /// - Returns: the index of `W_layer[0, 0]`.
    public func weightOffset(layer: Int) -> Int { stack.weightOffsets[layer] }

    /// The offset of layer `layer`'s bias in the flat vector.
    /// - Parameter layer: 0 for the input layer.
    /// - Returns: the index of `b_layer[0]`.
    public func biasOffset(layer: Int) -> Int { stack.biasOffsets[layer] }

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
