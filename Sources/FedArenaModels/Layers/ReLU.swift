import FedArenaNumerics

/// `max(x, 0)` (Nair and Hinton 2010, "Rectified linear units improve restricted Boltzmann
/// machines"); the backward pass keeps the delta where the output is positive.
///
/// It works in place, except as a network's very first layer, where it must not overwrite the
/// caller's samples and writes a buffer of its own.
struct ReLU: NetworkLayer {
    let size: Int
    let isInPlace: Bool

    var description: String { "relu" }
    var inputSize: Int { size }
    var outputSize: Int { size }

    func forward(_ pass: LayerPass, randomness: inout SeededGenerator?) {
        if !isInPlace { pass.output.update(from: pass.input, count: pass.rows * size) }
        VectorKernels.relu(pass.output, count: pass.rows * size)
    }

    func backward(
        _ pass: LayerPass, outputDelta: UnsafeMutablePointer<Float>, inputDelta: UnsafeMutablePointer<Float>?,
        target: UnsafeMutablePointer<Float>, alpha: Float, beta: Float
    ) {
        guard let inputDelta else { return }
        if inputDelta != outputDelta { inputDelta.update(from: outputDelta, count: pass.rows * size) }
        DenseStack.maskByPositive(inputDelta, pass.output, count: pass.rows * size)
    }
}
