import FedArenaCore
import FedArenaModels
import FedArenaNumerics
import Testing

@Suite struct DenseTests {
    /// A dense layer after an image reads it in height x width x channels order, with or without
    /// an explicit flatten.
    @Test(arguments: [false, true])
    func gradientAfterAnImageMatchesFiniteDifferences(explicitFlatten: Bool) throws {
        let layers: [LayerSpec] =
            [.conv(kernel: 2, channels: 3, stride: 1, padding: 0)] + (explicitFlatten ? [.flatten] : []) + [.dense(units: 4)]
        try CNNReference.expectGradientMatches(layers: layers, inputShape: [2, 3, 3], classes: 3)
    }

    /// 40 rows through 9 → 13 → 11: widths off the 8-lane loops, sgemm's split small products.
    @Test func wideLayersMatchFiniteDifferences() throws {
        try CNNReference.expectGradientMatches(layers: [.dense(units: 13), .dense(units: 11)], inputShape: [9], classes: 3, rows: 40)
    }

    @Test func flatteningOrderIsHeightWidthChannel() throws {
        // A 2x1x2 image (channels 0 and 1, two columns): a 1x1 identity convolution per channel,
        // then a classifier that reads only the second value of the flattened tensor.
        let model = try ConvolutionalNetwork(
            inputShape: [2, 1, 2], layers: [.conv(kernel: 1, channels: 2, stride: 1, padding: 0), .flatten], classes: 1)
        // conv W (1x1x2x2) = identity, b = [0, 0]; classifier W (4x1) = [0, 1, 0, 0], b = 0
        let parameters = ParameterVector([1, 0, 0, 1, 0, 0] + [0, 1, 0, 0, 0])
        // data order (C, H, W): channel 0 = [10, 20], channel 1 = [30, 40]; height-width-channel
        // order is [10, 30, 20, 40], so the second value is 30.
        #expect(try model.logits(parameters: parameters, features: [10, 20, 30, 40]) == [30])
    }
}
