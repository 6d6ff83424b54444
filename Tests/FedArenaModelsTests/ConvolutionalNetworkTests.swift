import FedArenaCore
import FedArenaModels
import FedArenaNumerics
import Testing

@Suite struct ConvolutionalNetworkTests {
    static let fltrust = try! ConvolutionalNetwork(inputShape: [1, 28, 28], layers: LayerSpec.fltrustCNN, classes: 10)

    /// The counts PyTorch reports for the same network (`torch_epoch.py --model cnn`: 139,960),
    /// by hand: conv 9·30 + 30, conv 270·50 + 50, dense 1250·100 + 100, classifier 100·10 + 10.
    @Test func fltrustNetworkHasPyTorchsParameterCountAndShapes() {
        let model = Self.fltrust
        #expect(model.parameterCount == 300 + 13_550 + 125_100 + 1_010)
        #expect(model.parameterCount == 139_960)
        #expect(model.inputCount == 784 && model.classCount == 10)
        #expect(
            model.layerShapes == [
                [30, 26, 26], [30, 26, 26], [30, 13, 13], [50, 11, 11], [50, 11, 11], [50, 5, 5], [1250], [100], [100],
            ])
        // 2 FLOPs per multiply-add: conv1 forward + weight gradient over 26² positions of 10
        // (with the bias) x 30; conv2 forward, weight and input gradients; dense 1250·100 three
        // times; classifier 100·10 three times; per sample.
        // 2 · (676·10·30·2 + 121·50·(2·271 + 270) + 1250·100·3 + 100·10·3) = 2 · 5,696,200
        let perSample = 11_392_400.0
        #expect(model.trainingFLOPs(rows: 32) == 32 * perSample)
    }

    @Test func heNormalInitialisationInLayoutOrder() {
        let model = Self.fltrust
        var generator = SeededGenerator(seed: 42, stream: [0])
        let parameters = model.initialParameters(using: &generator).values
        var replay = SeededGenerator(seed: 42, stream: [0])
        let first = (2.0 / 9).squareRoot()
        #expect(parameters[0] == Float(replay.normal() * first))
        #expect(parameters[1] == Float(replay.normal() * first))
        for _ in 2..<270 { _ = replay.normal() }
        // conv2's first weight follows conv1's 270 weights and 30 biases.
        #expect(parameters[300] == Float(replay.normal() * (2.0 / 270).squareRoot()))
        #expect(parameters[270..<300].allSatisfy { $0 == 0 })
        #expect(parameters[(300 + 13_500)..<13_850].allSatisfy { $0 == 0 })
        let conv2 = parameters[300..<13_800]
        let std = (conv2.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(conv2.count)).squareRoot()
        #expect(abs(std / (2.0 / 270).squareRoot() - 1) < 0.03)
        let dense = parameters[13_850..<138_850]
        let denseStd = (dense.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(dense.count)).squareRoot()
        #expect(abs(denseStd / (2.0 / 1250).squareRoot() - 1) < 0.01)
    }

    /// A small copy of the FLTrust network (every layer kind, two channels in) against the float64 reference.
    @Test func smallFLTrustShapedNetworkMatchesFiniteDifferences() throws {
        let layers: [LayerSpec] = [
            .conv(kernel: 3, channels: 4, stride: 1, padding: 0), .relu, .maxPool(size: 2, stride: 2),
            .conv(kernel: 3, channels: 5, stride: 1, padding: 1), .relu, .maxPool(size: 2, stride: 2), .flatten,
            .dense(units: 6), .relu,
        ]
        try CNNReference.expectGradientMatches(layers: layers, inputShape: [2, 10, 10], classes: 3, rows: 4)
    }

    /// Batches over 128 rows run in chunks: the gradient of the mean loss is still exact (checked
    /// against the reference on a sample of coordinates), and the fused step equals `w - lr·g`.
    @Test func batchesLargerThanAChunkAreExact() throws {
        let layers: [LayerSpec] = [.conv(kernel: 2, channels: 2, stride: 1, padding: 0), .relu]
        let model = try ConvolutionalNetwork(inputShape: [1, 4, 4], layers: layers, classes: 3)
        #expect(ConvolutionalNetwork.chunkRows == 128)
        try CNNReference.expectGradientMatches(
            layers: layers, inputShape: [1, 4, 4], classes: 3, rows: 300, coordinates: [0, 3, 8, 9, 10, 20, 40, 63, 66])

        var generator = SeededGenerator(seed: 3)
        let parameters = model.initialParameters(using: &generator)
        let samples = Fixtures.randomSamples(count: 300, features: 16, classes: 3, seed: 4)
        let (loss, gradient) = try model.lossAndGradient(parameters: parameters, on: samples)
        let workspace = model.makeWorkspace(batchCapacity: 300)
        #expect(workspace.storage.count == model.workspaceSize(batchCapacity: 128) + model.parameterCount)
        var stepped = parameters.values
        let stepLoss = samples.features.withUnsafeBufferPointer { x in
            samples.labels.withUnsafeBufferPointer { y in
                stepped.withUnsafeMutableBufferPointer { w in
                    model.sgdStep(parameters: w, inputs: x, labels: y, learningRate: 0.5, workspace: workspace)
                }
            }
        }
        #expect(stepLoss == loss)
        for i in 0..<model.parameterCount { #expect(abs(stepped[i] - (parameters.values[i] - 0.5 * gradient.values[i])) < 1e-6) }
        // Logits do not depend on how many rows a pass takes.
        let whole = try model.logits(parameters: parameters, features: samples.features, chunkSize: 300)
        let small = try model.logits(parameters: parameters, features: samples.features, chunkSize: 7)
        #expect(whole == small)
    }

    /// Images large enough that the convolutional layers run in blocks of samples (9, 9 and 1 of
    /// the 19 rows) and each convolution in blocks of its own: the gradient is still exact,
    /// and the fused step (which must not move the weights before every block's input delta)
    /// equals `w - lr·g`.
    @Test func sampleBlocksGiveTheExactGradientAndStep() throws {
        let layers: [LayerSpec] = [
            .conv(kernel: 3, channels: 3, stride: 1, padding: 1), .relu, .maxPool(size: 2, stride: 2),
            .conv(kernel: 3, channels: 2, stride: 1, padding: 0), .relu,
        ]
        let model = try ConvolutionalNetwork(inputShape: [1, 48, 48], layers: layers, classes: 3)
        // 48·48·3 = 6,912 floats per sample after the first convolution: blocks of 65,536 / 6,912 = 9.
        #expect(model.parameterCount == 30 + 56 + 968 * 3 + 3)
        try CNNReference.expectGradientMatches(
            layers: layers, inputShape: [1, 48, 48], classes: 3, rows: 19,
            coordinates: Array(stride(from: 0, to: 30, by: 2)) + [29] + Array(stride(from: 30, to: 86, by: 4)) + [85, 86, 1_000, 2_992])

        var generator = SeededGenerator(seed: 3)
        let parameters = model.initialParameters(using: &generator)
        let samples = Fixtures.randomSamples(count: 19, features: 48 * 48, classes: 3, seed: 4)
        let (loss, gradient) = try model.lossAndGradient(parameters: parameters, on: samples)
        let workspace = model.makeWorkspace(batchCapacity: 19)
        var stepped = parameters.values
        let stepLoss = samples.features.withUnsafeBufferPointer { x in
            samples.labels.withUnsafeBufferPointer { y in
                stepped.withUnsafeMutableBufferPointer { w in
                    model.sgdStep(parameters: w, inputs: x, labels: y, learningRate: 0.5, workspace: workspace)
                }
            }
        }
        #expect(stepLoss == loss)
        for i in 0..<model.parameterCount { #expect(abs(stepped[i] - (parameters.values[i] - 0.5 * gradient.values[i])) < 1e-6) }
    }

    @Test func scaledAccumulatedGradientAndFusedStepAgree() throws {
        let model = try ConvolutionalNetwork(
            inputShape: [1, 6, 6], layers: [.conv(kernel: 3, channels: 3, stride: 1, padding: 0), .relu, .maxPool(size: 2, stride: 2)],
            classes: 3)
        var generator = SeededGenerator(seed: 12)
        let parameters = model.initialParameters(using: &generator)
        let batch = Fixtures.randomSamples(count: 6, features: 36, classes: 3, seed: 13)
        let (loss, gradient) = try model.lossAndGradient(parameters: parameters, on: batch)
        let workspace = model.makeWorkspace(batchCapacity: 8)
        var accumulated = [Float](repeating: 1, count: model.parameterCount)
        let accumulatedLoss = parameters.values.withUnsafeBufferPointer { w in
            batch.features.withUnsafeBufferPointer { x in
                batch.labels.withUnsafeBufferPointer { y in
                    accumulated.withUnsafeMutableBufferPointer { g in
                        model.lossAndGradient(parameters: w, inputs: x, labels: y, gradient: g, scale: -2, accumulate: true, workspace: workspace)
                    }
                }
            }
        }
        #expect(accumulatedLoss == loss)
        for (a, g) in zip(accumulated, gradient.values) { #expect(abs(a - (1 - 2 * g)) < 1e-6) }
        var stepped = parameters.values
        let stepLoss = batch.features.withUnsafeBufferPointer { x in
            batch.labels.withUnsafeBufferPointer { y in
                stepped.withUnsafeMutableBufferPointer { w in
                    model.sgdStep(parameters: w, inputs: x, labels: y, learningRate: 0.3, workspace: workspace)
                }
            }
        }
        #expect(stepLoss == loss)
        for i in 0..<model.parameterCount { #expect(abs(stepped[i] - (parameters.values[i] - 0.3 * gradient.values[i])) < 1e-6) }
    }

    /// A tiny CNN learns 24 random images with random labels by heart.
    @Test func tinyNetworkFitsATinyBatch() throws {
        let model = try ConvolutionalNetwork(
            inputShape: [1, 6, 6],
            layers: [.conv(kernel: 3, channels: 8, stride: 1, padding: 1), .relu, .maxPool(size: 2, stride: 2), .dense(units: 16), .relu],
            classes: 4)
        let data = Fixtures.randomSamples(count: 24, features: 36, classes: 4, seed: 21)
        var generator = SeededGenerator(seed: 1)
        let global = model.initialParameters(using: &generator)
        let trainer = LocalTrainer(model: model, configuration: try .init(epochs: 150, batchSize: 8, optimizer: SGD(learningRate: 0.1)))
        let result = try trainer.train(from: global, on: data, seed: 2, stream: [0])
        let evaluation = try Evaluator(model: model).evaluate(result.parameters, on: data)
        #expect(result.epochLosses.first! > 1)
        #expect(evaluation.accuracy == 1)
        #expect(evaluation.loss < 0.05)
    }

    /// Training with dropout is reproducible from the seed and changes with it.
    @Test func trainingWithDropoutIsDeterministic() throws {
        let model = try ConvolutionalNetwork(
            inputShape: [1, 5, 5], layers: [.conv(kernel: 2, channels: 3, stride: 1, padding: 0), .relu, .dropout(rate: 0.3)],
            classes: 3)
        let data = Fixtures.randomSamples(count: 20, features: 25, classes: 3, seed: 5)
        var generator = SeededGenerator(seed: 6)
        let global = model.initialParameters(using: &generator)
        let configuration = try LocalTrainer.Configuration(epochs: 2, batchSize: 8, optimizer: SGD(learningRate: 0.1, momentum: 0.5))
        let first = try LocalTrainer(model: model, configuration: configuration).train(from: global, on: data, seed: 3, stream: [1, 2])
        let trainer = LocalTrainer(model: model, configuration: configuration)
        _ = try trainer.train(from: global, on: data, seed: 4, stream: [0])
        #expect(try trainer.train(from: global, on: data, seed: 3, stream: [1, 2]) == first)
        #expect(try trainer.train(from: global, on: data, seed: 3, stream: [1, 3]).parameters != first.parameters)
        // Without dropout the same shuffles give other parameters: the masks did act.
        let plain = try ConvolutionalNetwork(
            inputShape: [1, 5, 5], layers: [.conv(kernel: 2, channels: 3, stride: 1, padding: 0), .relu], classes: 3)
        #expect(try LocalTrainer(model: plain, configuration: configuration).train(from: global, on: data, seed: 3, stream: [1, 2]).parameters != first.parameters)
    }

    @Test(arguments: [
        ([784], [LayerSpec.conv(kernel: 3, channels: 4, stride: 1, padding: 0)], "model.layers[0]: conv layer: a convolution needs an image input [channels, height, width], got [784]"),
        ([1, 28, 28], LayerSpec.fltrustCNN + [.maxPool(size: 2, stride: 2)], "model.layers[9]: maxpool layer: max pooling needs an image input [channels, height, width], got [100]"),
        ([1, 4, 4], [.conv(kernel: 5, channels: 1, stride: 1, padding: 0)], "model.layers[0]: conv layer: its 5x5 kernel does not fit the 1x4x4 input with padding 0"),
        ([1, 4, 4], [.dropout(rate: 1)], "model.layers[0]: dropout layer: rate must be in [0, 1), got 1.0"),
    ])
    func impossibleArchitecturesNameTheLayer(shape: [Int], layers: [LayerSpec], message: String) {
        #expect {
            try ConvolutionalNetwork(inputShape: shape, layers: layers, classes: 10)
        } throws: { error in
            (error as? ModelError)?.code == .invalidConfiguration && (error as? ModelError)?.message.contains(message) == true
        }
    }
}
