import FedArenaCore
import FedArenaModels
import FedArenaNumerics
import Testing

@Suite struct DropoutTests {
    static let layers: [LayerSpec] = [.dense(units: 6), .relu, .dropout(rate: 0.4), .dense(units: 5)]

    /// With a training generator the masks follow the documented draw order: one
    /// `unitDouble()` per value, row by row; a draw below the rate drops the value, the others
    /// are scaled by 1 / (1 - rate).
    @Test func gradientWithTheDocumentedMasksMatchesFiniteDifferences() throws {
        let model = try ConvolutionalNetwork(inputShape: [4], layers: Self.layers, classes: 3)
        let reference = CNNReference(inputShape: [4], layers: Self.layers, classes: 3)
        var generator = SeededGenerator(seed: 5)
        let parameters = model.initialParameters(using: &generator)
        let samples = Fixtures.randomSamples(count: 6, features: 4, classes: 3, seed: 6)

        var draws = SeededGenerator(seed: 9, stream: [1])
        let masks: [[[Double]]] = (0..<6).map { _ in [(0..<6).map { _ in draws.unitDouble() < 0.4 ? 0 : 1 / 0.6 }] }
        #expect(masks.joined().joined().contains(0) && masks.joined().joined().contains(1 / 0.6))

        let workspace = model.makeWorkspace(batchCapacity: 6)
        workspace.trainingGenerator = SeededGenerator(seed: 9, stream: [1])
        var gradient = [Float](repeating: 0, count: model.parameterCount)
        let loss = parameters.values.withUnsafeBufferPointer { w in
            samples.features.withUnsafeBufferPointer { x in
                samples.labels.withUnsafeBufferPointer { y in
                    gradient.withUnsafeMutableBufferPointer { g in
                        model.lossAndGradient(parameters: w, inputs: x, labels: y, gradient: g, scale: 1, accumulate: false, workspace: workspace)
                    }
                }
            }
        }
        // The generator advanced by exactly the 36 draws.
        #expect(workspace.trainingGenerator?.next() == draws.next())

        var point = parameters.values.map(Double.init)
        #expect(abs(loss - reference.loss(parameters: point, samples: samples, masks: masks)) < 1e-5)
        let epsilon = 1e-6
        for index in 0..<model.parameterCount {
            let saved = point[index]
            point[index] = saved + epsilon
            let plus = reference.loss(parameters: point, samples: samples, masks: masks)
            point[index] = saved - epsilon
            let minus = reference.loss(parameters: point, samples: samples, masks: masks)
            point[index] = saved
            let numeric = (plus - minus) / (2 * epsilon)
            #expect(abs(Double(gradient[index]) - numeric) <= 1e-4 + 1e-3 * abs(numeric), "parameter \(index)")
        }
    }

    /// Without a generator (evaluation, the plain gradient) dropout is the identity.
    @Test func isTheIdentityWithoutAGenerator() throws {
        try CNNReference.expectGradientMatches(layers: Self.layers, inputShape: [4], classes: 3)
        let with = try ConvolutionalNetwork(inputShape: [4], layers: Self.layers, classes: 3)
        let without = try ConvolutionalNetwork(inputShape: [4], layers: [.dense(units: 6), .relu, .dense(units: 5)], classes: 3)
        var generator = SeededGenerator(seed: 2)
        let parameters = with.initialParameters(using: &generator)
        let samples = Fixtures.randomSamples(count: 4, features: 4, classes: 3, seed: 3)
        #expect(try with.logits(parameters: parameters, features: samples.features) == without.logits(parameters: parameters, features: samples.features))
    }

    /// Inside a convolutional stack the mask runs over the channels-last values.
    @Test func gradientAfterAConvolutionMatchesFiniteDifferences() throws {
        let layers: [LayerSpec] = [.conv(kernel: 2, channels: 3, stride: 1, padding: 0), .dropout(rate: 0.5), .dense(units: 4)]
        let model = try ConvolutionalNetwork(inputShape: [1, 3, 3], layers: layers, classes: 2)
        let reference = CNNReference(inputShape: [1, 3, 3], layers: layers, classes: 2)
        var generator = SeededGenerator(seed: 8)
        let parameters = model.initialParameters(using: &generator)
        let samples = Fixtures.randomSamples(count: 3, features: 9, classes: 2, seed: 4)
        var draws = SeededGenerator(seed: 1)
        let masks: [[[Double]]] = (0..<3).map { _ in [(0..<12).map { _ in draws.unitDouble() < 0.5 ? 0 : 2 }] }
        let workspace = model.makeWorkspace(batchCapacity: 3)
        workspace.trainingGenerator = SeededGenerator(seed: 1)
        var gradient = [Float](repeating: 0, count: model.parameterCount)
        _ = parameters.values.withUnsafeBufferPointer { w in
            samples.features.withUnsafeBufferPointer { x in
                samples.labels.withUnsafeBufferPointer { y in
                    gradient.withUnsafeMutableBufferPointer { g in
                        model.lossAndGradient(parameters: w, inputs: x, labels: y, gradient: g, scale: 1, accumulate: false, workspace: workspace)
                    }
                }
            }
        }
        var point = parameters.values.map(Double.init)
        for index in 0..<model.parameterCount {
            let saved = point[index]
            point[index] = saved + 1e-6
            let plus = reference.loss(parameters: point, samples: samples, masks: masks)
            point[index] = saved - 1e-6
            let minus = reference.loss(parameters: point, samples: samples, masks: masks)
            point[index] = saved
            let numeric = (plus - minus) / 2e-6
            #expect(abs(Double(gradient[index]) - numeric) <= 1e-4 + 1e-3 * abs(numeric), "parameter \(index)")
        }
    }
}
