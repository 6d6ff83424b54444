import FedArenaCore
import FedArenaModels
import FedArenaNumerics
import Testing

@Suite struct MLPTests {
    @Test func parameterCountAndLayoutMatchTheReference() throws {
        let model = try MLP(inputs: 784, hidden: [100], classes: 10)
        #expect(model.parameterCount == 79_510)
        #expect(model.weightOffset(layer: 0) == 0)
        #expect(model.biasOffset(layer: 0) == 78_400)
        #expect(model.weightOffset(layer: 1) == 78_500)
        #expect(model.biasOffset(layer: 1) == 79_500)
        #expect(model.description == "mlp(784-100-10)")
        let deep = try MLP(inputs: 6, hidden: [5, 4], classes: 3)
        #expect(deep.parameterCount == 6 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3)
        #expect(deep.biasOffset(layer: 2) == 6 * 5 + 5 + 5 * 4 + 4 + 4 * 3)
    }

    @Test func heNormalInitialisationStatisticsAndDrawOrder() throws {
        let model = try MLP(inputs: 784, hidden: [100], classes: 10)
        var generator = SeededGenerator(seed: 42, stream: [0])
        let parameters = model.initialParameters(using: &generator).values
        func stats(_ slice: ArraySlice<Float>) -> (mean: Double, std: Double) {
            let mean = slice.reduce(0.0) { $0 + Double($1) } / Double(slice.count)
            let variance = slice.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(slice.count - 1)
            return (mean, variance.squareRoot())
        }
        let first = stats(parameters[0..<78_400])
        let expected = (2.0 / 784).squareRoot()
        #expect(abs(first.mean) < 0.01 * expected)
        #expect(abs(first.std / expected - 1) < 0.01)
        let second = stats(parameters[78_500..<79_500])
        #expect(abs(second.std / (2.0 / 100).squareRoot() - 1) < 0.06)
        #expect(parameters[78_400..<78_500].allSatisfy { $0 == 0 })
        #expect(parameters[79_500...].allSatisfy { $0 == 0 })

        // W1 row-major first, then W2, each draw Float(normal() * sqrt(2 / fan_in)).
        var replay = SeededGenerator(seed: 42, stream: [0])
        #expect(parameters[0] == Float(replay.normal() * expected))
        #expect(parameters[1] == Float(replay.normal() * expected))
        for _ in 2..<78_400 { _ = replay.normal() }
        #expect(parameters[78_500] == Float(replay.normal() * (2.0 / 100).squareRoot()))

        var again = SeededGenerator(seed: 42, stream: [0])
        #expect(model.initialParameters(using: &again).values == parameters)
    }

    /// 6-5-4-3 is the small case; 10-13-3 and 9-17-8-2 have widths that are not multiples of
    /// the 8-lane vector loops, so both their vector bodies and their scalar tails are checked.
    @Test(arguments: [[6, 5, 4, 3], [10, 13, 3], [9, 17, 8, 2]])
    func gradientMatchesFiniteDifferences(widths: [Int]) throws {
        let model = try MLP(inputs: widths[0], hidden: Array(widths.dropFirst().dropLast()), classes: widths.last!)
        var generator = SeededGenerator(seed: 3)
        var parameters = model.initialParameters(using: &generator)
        // Non-zero biases so that their gradients are exercised away from the initial point.
        for layer in 0..<(widths.count - 1) {
            for j in 0..<widths[layer + 1] { parameters.values[model.biasOffset(layer: layer) + j] = Float(generator.normal() * 0.1) }
        }
        let batch = Fixtures.randomSamples(count: 7, features: widths[0], classes: widths.last!, seed: 8)
        let (loss, gradient) = try model.lossAndGradient(parameters: parameters, on: batch)

        let inputs = batch.features.map(Double.init)
        var point = parameters.values.map(Double.init)
        let reference = Fixtures.referenceLoss(widths: widths, parameters: point, inputs: inputs, labels: batch.labels)
        #expect(abs(loss - reference) < 1e-5)

        let epsilon = 1e-6
        for index in 0..<model.parameterCount {
            let saved = point[index]
            point[index] = saved + epsilon
            let plus = Fixtures.referenceLoss(widths: widths, parameters: point, inputs: inputs, labels: batch.labels)
            point[index] = saved - epsilon
            let minus = Fixtures.referenceLoss(widths: widths, parameters: point, inputs: inputs, labels: batch.labels)
            point[index] = saved
            let numeric = (plus - minus) / (2 * epsilon)
            let analytic = Double(gradient.values[index])
            #expect(abs(analytic - numeric) <= 1e-4 + 1e-3 * abs(numeric), "parameter \(index)")
        }
    }

    @Test func logitsMatchTheReferenceForward() throws {
        let model = try MLP(inputs: 4, hidden: [3], classes: 2)
        // W1 = [[1,0,0],[0,1,0],[0,0,1],[1,1,1]], b1 = [0, -1, 0], W2 = [[1,0],[0,1],[1,-1]], b2 = [0.5, 0]
        let parameters = ParameterVector([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, -1, 0, 1, 0, 0, 1, 1, -1, 0.5, 0])
        // x = [1, 0, -2, 0.5]: h = [1.5, 0.5 - 1, -1.5] → relu [1.5, 0, 0]; z = [1.5 + 0.5, 0] = [2, 0]
        let logits = try model.logits(parameters: parameters, features: [1, 0, -2, 0.5])
        #expect(logits == [2, 0])
        #expect(try model.predict(parameters: parameters, features: [1, 0, -2, 0.5, 0, 3, 0, 0]) == [0, 1])
    }

    @Test func scaledAccumulatedGradientAndFusedStepAgree() throws {
        let model = try MLP(inputs: 5, hidden: [4], classes: 3)
        var generator = SeededGenerator(seed: 12)
        let parameters = model.initialParameters(using: &generator)
        let batch = Fixtures.randomSamples(count: 6, features: 5, classes: 3, seed: 13)
        let (loss, gradient) = try model.lossAndGradient(parameters: parameters, on: batch)
        let workspace = model.makeWorkspace(batchCapacity: 8)

        var accumulated = [Float](repeating: 1, count: model.parameterCount)
        let accumulatedLoss = parameters.values.withUnsafeBufferPointer { w in
            batch.features.withUnsafeBufferPointer { x in
                batch.labels.withUnsafeBufferPointer { y in
                    accumulated.withUnsafeMutableBufferPointer { g in
                        model.lossAndGradient(
                            parameters: w, inputs: x, labels: y, gradient: g, scale: -2, accumulate: true, workspace: workspace)
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
        for i in 0..<model.parameterCount {
            #expect(abs(stepped[i] - (parameters.values[i] - 0.3 * gradient.values[i])) < 1e-6)
        }
    }

    /// A 32-row batch through 784-100-10 takes the split small-product path of `sgemm`; 8-row
    /// batches do not. The gradient of the mean loss over 32 rows is the mean of the four 8-row
    /// gradients, and the logits do not depend on the chunking.
    @Test func splitMiniBatchProductsAgreeWithUnsplitOnes() throws {
        let model = try MLP(inputs: 784, hidden: [100], classes: 10)
        var generator = SeededGenerator(seed: 5)
        let parameters = model.initialParameters(using: &generator)
        let batch = Fixtures.randomSamples(count: 32, features: 784, classes: 10, seed: 6)
        let (loss, gradient) = try model.lossAndGradient(parameters: parameters, on: batch)
        var meanGradient = [Float](repeating: 0, count: model.parameterCount)
        var meanLoss = 0.0
        for part in 0..<4 {
            let (partLoss, partGradient) = try model.lossAndGradient(
                parameters: parameters, on: batch.subset((8 * part)..<(8 * part + 8)))
            VectorMath.axpy(0.25, partGradient.values, into: &meanGradient)
            meanLoss += partLoss / 4
        }
        #expect(abs(loss - meanLoss) < 1e-5)
        let scale = VectorMath.sumOfSquares(gradient.values).squareRoot()
        #expect(VectorMath.squaredDistance(gradient.values, meanGradient).squareRoot() < 1e-5 * scale)

        let whole = try model.logits(parameters: parameters, features: batch.features, chunkSize: 32)
        let chunked = try model.logits(parameters: parameters, features: batch.features, chunkSize: 8)
        for (a, b) in zip(whole, chunked) { #expect(abs(a - b) < 1e-4) }
    }

    @Test func invalidWidthsAndMismatchedInputsThrow() throws {
        #expect(throws: ModelError.self) { try MLP(inputs: 784, hidden: [0], classes: 10) }
        let model = try MLP(inputs: 4, hidden: [3], classes: 2)
        let wrongFeatures = Fixtures.randomSamples(count: 2, features: 5, classes: 2, seed: 1)
        var generator = SeededGenerator(seed: 1)
        let parameters = model.initialParameters(using: &generator)
        #expect { try model.lossAndGradient(parameters: parameters, on: wrongFeatures) } throws: {
            ($0 as? ModelError)?.code == .featureCountMismatch
        }
        let badLabels = LabeledSamples(features: [0, 0, 0, 0], labels: [2], featureCount: 4, classCount: 3)
        #expect { try model.lossAndGradient(parameters: parameters, on: badLabels) } throws: {
            ($0 as? ModelError)?.code == .labelOutOfRange
        }
        #expect { try model.logits(parameters: ParameterVector(zeros: 3), features: [0, 0, 0, 0]) } throws: {
            ($0 as? ModelError)?.code == .parameterCountMismatch
        }
    }
}
