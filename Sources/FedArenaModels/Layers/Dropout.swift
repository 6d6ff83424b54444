import FedArenaNumerics

/// Inverted dropout (Srivastava et al. 2014, "Dropout: a simple way to prevent neural networks
/// from overfitting", JMLR 15): in training each value is kept with probability `1 - rate` and
/// scaled by `1 / (1 - rate)`, otherwise zeroed; at evaluation (no generator) it is the identity.
///
/// Draw order: one `unitDouble()` per value, row by row, feature by feature (channels last after
/// an image), from the training generator; the value is dropped when the draw is `< rate`.
/// Nothing is drawn when `rate == 0`. A batch of more than ``ConvolutionalNetwork/chunkRows``
/// rows draws chunk by chunk (each dropout layer in turn within a chunk).
struct Dropout: NetworkLayer {
    let size: Int
    let rate: Double

    var description: String { "dropout(\(rate))" }
    var inputSize: Int { size }
    var outputSize: Int { size }
    /// The mask, `0` or `1 / (1 - rate)` per value.
    func savedCount(rows: Int) -> Int { rows * size }

    func forward(_ pass: LayerPass, randomness: inout SeededGenerator?) {
        let count = pass.rows * size
        let mask = pass.saved
        if rate > 0, var generator = randomness {
            let keep = Float(1 / (1 - rate))
            for i in 0..<count { mask[i] = generator.unitDouble() < rate ? 0 : keep }
            randomness = generator
        } else {
            mask.update(repeating: 1, count: count)
        }
        for i in 0..<count { pass.output[i] = pass.input[i] * mask[i] }
    }

    func backward(
        _ pass: LayerPass, outputDelta: UnsafeMutablePointer<Float>, inputDelta: UnsafeMutablePointer<Float>?,
        target: UnsafeMutablePointer<Float>, alpha: Float, beta: Float
    ) {
        guard let inputDelta else { return }
        for i in 0..<(pass.rows * size) { inputDelta[i] = outputDelta[i] * pass.saved[i] }
    }
}
