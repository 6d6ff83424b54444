import FedArenaNumerics

/// Reads a `height x width x channels` tensor as a vector of `height · width · channels`
/// features: the memory already is one, so both passes do nothing.
struct Flatten: NetworkLayer {
    let size: Int

    var description: String { "flatten" }
    var inputSize: Int { size }
    var outputSize: Int { size }
    var isInPlace: Bool { true }

    func forward(_ pass: LayerPass, randomness: inout SeededGenerator?) {}

    func backward(
        _ pass: LayerPass, outputDelta: UnsafeMutablePointer<Float>, inputDelta: UnsafeMutablePointer<Float>?,
        target: UnsafeMutablePointer<Float>, alpha: Float, beta: Float
    ) {}
}
