import FedArenaCore
import FedArenaModels
import FedArenaNumerics
import Testing

@Suite struct ConvolutionTests {
    /// Hand arithmetic: a 1x3x3 image, one 2x2 kernel, then a dense classifier that copies the
    /// four conv outputs into two logits.
    @Test func logitsOfAHandComputedCase() throws {
        let model = try ConvolutionalNetwork(
            inputShape: [1, 3, 3], layers: [.conv(kernel: 2, channels: 1, stride: 1, padding: 0)], classes: 2)
        // conv: W (2x2x1x1) = [1, 0, 0, -2], b = 0.5; classifier W (4x2) rows [1,0],[0,1],[0,0],[0,0], b = [0, 0]
        let parameters = ParameterVector([1, 0, 0, -2, 0.5] + [1, 0, 0, 1, 0, 0, 0, 0] + [0, 0])
        #expect(model.parameterCount == 15)
        // image rows [1 2 3; 4 5 6; 7 8 9]: out(0,0) = 1 - 2·5 + 0.5 = -8.5, out(0,1) = 2 - 2·6 + 0.5 = -9.5
        let logits = try model.logits(parameters: parameters, features: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        #expect(logits == [-8.5, -9.5])
        // With padding 1 the output is 4x4. Its first position sees only the image's (0,0), under
        // the kernel's (1,1) tap: -2·1 + 0.5 = -1.5; its second sees (0,0) and (0,1) under the
        // taps (1,0) and (1,1): 0·1 - 2·2 + 0.5 = -3.5.
        let padded = try ConvolutionalNetwork(
            inputShape: [1, 3, 3], layers: [.conv(kernel: 2, channels: 1, stride: 1, padding: 1)], classes: 2)
        let paddedParameters = ParameterVector([1, 0, 0, -2, 0.5] + [1, 0, 0, 1] + [Float](repeating: 0, count: 28) + [0, 0])
        #expect(try padded.logits(parameters: paddedParameters, features: [1, 2, 3, 4, 5, 6, 7, 8, 9]) == [-1.5, -3.5])
    }

    @Test(arguments: [
        // kernel, channels, stride, padding on a 2x5x5 input (two channels exercise the reordering)
        (3, 3, 1, 0), (3, 2, 1, 1), (2, 3, 2, 0), (3, 2, 2, 1), (1, 2, 1, 0),
    ])
    func gradientMatchesFiniteDifferences(kernel: Int, channels: Int, stride: Int, padding: Int) throws {
        try CNNReference.expectGradientMatches(
            layers: [.conv(kernel: kernel, channels: channels, stride: stride, padding: padding)], inputShape: [2, 5, 5],
            classes: 3)
    }

    /// A second convolution back-propagates through the first one's patches (col2im), with and
    /// without padding and stride.
    @Test(arguments: [(1, 0), (1, 1), (2, 1)])
    func stackedConvolutionsMatchFiniteDifferences(stride: Int, padding: Int) throws {
        try CNNReference.expectGradientMatches(
            layers: [
                .conv(kernel: 3, channels: 3, stride: 1, padding: 1), .relu,
                .conv(kernel: 3, channels: 2, stride: stride, padding: padding),
            ],
            inputShape: [1, 6, 6], classes: 3)
    }

    /// 9 channels in and out: the patch copies and the delta sums take their 8-lane loops.
    @Test func wideChannelsMatchFiniteDifferences() throws {
        let layers: [LayerSpec] = [
            .conv(kernel: 2, channels: 9, stride: 1, padding: 0), .relu, .conv(kernel: 2, channels: 9, stride: 1, padding: 1),
        ]
        let model = try ConvolutionalNetwork(inputShape: [1, 4, 4], layers: layers, classes: 2)
        // Every parameter of the second convolution, and a sample of the rest.
        let second = Array(45..<(45 + 4 * 9 * 9 + 9))
        try CNNReference.expectGradientMatches(
            layers: layers, inputShape: [1, 4, 4], classes: 2, rows: 3,
            coordinates: Array(0..<45) + second + Array(stride(from: 45 + 333, to: model.parameterCount, by: 7)))
    }
}
