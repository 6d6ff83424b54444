import FedArenaCore
import FedArenaModels
import FedArenaNumerics
import Testing

@Suite struct MaxPoolTests {
    /// Hand arithmetic: the identity as a 1x1 convolution, then a 2x2 pool over a 4x4 image.
    @Test func poolsEachWindowsMaximum() throws {
        let model = try ConvolutionalNetwork(
            inputShape: [1, 4, 4], layers: [.conv(kernel: 1, channels: 1, stride: 1, padding: 0), .maxPool(size: 2, stride: 2)],
            classes: 4)
        // conv W = 1, b = 0; classifier = identity on the 4 pooled values
        var identity = [Float](repeating: 0, count: 16)
        for i in 0..<4 { identity[i * 4 + i] = 1 }
        let parameters = ParameterVector([1, 0] + identity + [0, 0, 0, 0])
        let image: [Float] = [1, 5, -2, 0, 3, 2, -1, -3, 0, 0, 9, 8, -1, 7, 8, 9]
        #expect(try model.logits(parameters: parameters, features: image) == [5, 0, 7, 9])
    }

    /// Tiling windows, overlapping ones (stride < size: deltas add up), gaps between windows and a
    /// dropped border (stride > size, 7 not a multiple), on 2 and 9 channels.
    @Test(arguments: [(2, 2, 2), (3, 2, 2), (2, 3, 2), (2, 2, 9), (3, 1, 9)])
    func gradientMatchesFiniteDifferences(size: Int, stride: Int, channels: Int) throws {
        try CNNReference.expectGradientMatches(
            layers: [.conv(kernel: 2, channels: channels, stride: 1, padding: 0), .maxPool(size: size, stride: stride)],
            inputShape: [1, 8, 8], classes: 3, rows: 3)
    }

    @Test func aWindowLargerThanTheImageIsRejected() {
        #expect {
            try ConvolutionalNetwork(inputShape: [1, 3, 3], layers: [.maxPool(size: 4, stride: 4)], classes: 2)
        } throws: { error in
            guard let error = error as? ModelError else { return false }
            return error.code == .invalidConfiguration && error.message.contains("model.layers[0]")
                && error.message.contains("window does not fit the 1x3x3 input")
        }
    }
}
