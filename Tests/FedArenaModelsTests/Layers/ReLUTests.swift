import FedArenaCore
import FedArenaModels
import FedArenaNumerics
import Testing

@Suite struct ReLUTests {
    @Test func zeroesNegativeValues() throws {
        let model = try ConvolutionalNetwork(inputShape: [3], layers: [.relu], classes: 3)
        // classifier = identity, b = 0: the logits are relu(x)
        let parameters = ParameterVector([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0])
        let samples: [Float] = [-1, 2, 0, 3, -0.5, 4]
        #expect(try model.logits(parameters: parameters, features: samples) == [0, 2, 0, 3, 0, 4])
        // As the first layer it must leave the caller's samples alone.
        #expect(samples == [-1, 2, 0, 3, -0.5, 4])
    }

    @Test(arguments: [
        [LayerSpec.dense(units: 5), .relu, .dense(units: 4), .relu],
        [.conv(kernel: 2, channels: 3, stride: 1, padding: 0), .relu, .conv(kernel: 2, channels: 2, stride: 1, padding: 0), .relu],
        [.relu, .dense(units: 4)],
    ])
    func gradientMatchesFiniteDifferences(layers: [LayerSpec]) throws {
        let image = layers.contains { if case .conv = $0 { true } else { false } }
        try CNNReference.expectGradientMatches(layers: layers, inputShape: image ? [1, 4, 4] : [6], classes: 3)
    }
}
