import FedArenaNumerics

/// Reorders each sample from the data's `channels x height x width` (NumPy C order) to the
/// network's `height x width x channels`. The network adds it in front when a sample has more
/// than one channel; with one channel the two orders coincide.
struct ChannelsLast: NetworkLayer {
    let channels: Int
    let height: Int
    let width: Int

    var description: String { "chw→hwc" }
    var inputSize: Int { channels * height * width }
    var outputSize: Int { inputSize }

    func forward(_ pass: LayerPass, randomness: inout SeededGenerator?) {
        let plane = height * width
        for sample in 0..<pass.rows {
            let source = pass.input + sample * inputSize
            let target = pass.output + sample * inputSize
            for c in 0..<channels {
                for pixel in 0..<plane { target[pixel * channels + c] = source[c * plane + pixel] }
            }
        }
    }

    func backward(
        _ pass: LayerPass, outputDelta: UnsafeMutablePointer<Float>, inputDelta: UnsafeMutablePointer<Float>?,
        target: UnsafeMutablePointer<Float>, alpha: Float, beta: Float
    ) {
        guard let inputDelta else { return }
        let plane = height * width
        for sample in 0..<pass.rows {
            let source = outputDelta + sample * inputSize
            let result = inputDelta + sample * inputSize
            for c in 0..<channels {
                for pixel in 0..<plane { result[c * plane + pixel] = source[pixel * channels + c] }
            }
        }
    }
}
