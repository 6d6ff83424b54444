import FedArenaNumerics

/// A fully connected layer `y = x W + b`.
///
/// Parameter layout (as ``MLP``'s layers): `W` (`inputs x units`, row-major) then `b` (`units`).
/// After an image-shaped tensor the inputs are its values in `height x width x channels` order.
/// Initialisation: He normal, `W ~ N(0, 2 / inputs)` in the layout order (He et al. 2015); `b = 0`.
struct Dense: NetworkLayer {
    let inputs: Int
    let units: Int
    /// Whether the backward pass computes the input delta (false for the first parametric layer).
    let propagatesDelta: Bool

    var description: String { "dense \(inputs)→\(units)" }
    var inputSize: Int { inputs }
    var outputSize: Int { units }
    var parameterCount: Int { inputs * units + units }
    /// The bias gradient's column sums.
    func temporaryCount(rows: Int) -> Int { units }

    func trainingFLOPs(rows: Int) -> Double {
        2 * Double(rows * inputs * units) * (propagatesDelta ? 3 : 2)
    }

    func initialize(_ parameters: UnsafeMutablePointer<Float>, using generator: inout SeededGenerator) {
        let std = (2.0 / Double(inputs)).squareRoot()
        for index in 0..<(inputs * units) { parameters[index] = Float(generator.normal() * std) }
    }

    func forward(_ pass: LayerPass, randomness: inout SeededGenerator?) {
        let rows = pass.rows
        // Z = X · W, split along k into small products for a mini-batch (see `DenseStack.smallProductParts`).
        let parts = DenseStack.smallProductParts(rows: rows, columns: units, depth: inputs)
        var start = 0
        for part in 0..<parts {
            let end = inputs * (part + 1) / parts
            BLAS.sgemm(
                m: rows, n: units, k: end - start, a: pass.input + start, lda: inputs,
                b: pass.parameters + start * units, beta: part == 0 ? 0 : 1, c: pass.output)
            start = end
        }
        let bias = pass.parameters + inputs * units
        for row in 0..<rows { VectorKernels.add(bias, into: pass.output + row * units, count: units) }
    }

    func backward(
        _ pass: LayerPass, outputDelta: UnsafeMutablePointer<Float>, inputDelta: UnsafeMutablePointer<Float>?,
        target: UnsafeMutablePointer<Float>, alpha: Float, beta: Float
    ) {
        let rows = pass.rows
        if let inputDelta {
            // dX = dZ · Wᵀ, before W may be overwritten below.
            BLAS.sgemm(transposeB: true, m: rows, n: inputs, k: units, a: outputDelta, b: pass.parameters, c: inputDelta)
        }
        // dW = Xᵀ · dZ, split along the rows of dW for a mini-batch.
        let parts = DenseStack.smallProductParts(rows: rows, columns: units, depth: inputs)
        var start = 0
        for part in 0..<parts {
            let end = inputs * (part + 1) / parts
            BLAS.sgemm(
                transposeA: true, m: end - start, n: units, k: rows, alpha: alpha, a: pass.input + start, lda: inputs,
                b: outputDelta, beta: beta, c: target + start * units)
            start = end
        }
        let sums = pass.temporary
        VectorKernels.columnSums(outputDelta, rows: rows, columns: units, into: sums)
        let bias = target + inputs * units
        if beta == 0 {
            for j in 0..<units { bias[j] = alpha * sums[j] }
        } else {
            for j in 0..<units { bias[j] = beta * bias[j] + alpha * sums[j] }
        }
    }
}
