import FedArenaCore
import FedArenaModels
import FedArenaNumerics
import Foundation
import Testing

@Suite struct SoftmaxRegressionTests {
    @Test func parameterCount() throws {
        #expect(try SoftmaxRegression().parameterCount == 7_850)
        #expect(try SoftmaxRegression(inputs: 2, classes: 3).parameterCount == 9)
        #expect(throws: ModelError.self) { try SoftmaxRegression(inputs: 0, classes: 3) }
    }

    @Test func lossAndGradientOfAHandComputedCase() throws {
        let model = try SoftmaxRegression(inputs: 2, classes: 3)
        // W = [[1, 0, 0], [0, 1, 0]], b = [0, 0, 1]; x = [1, 2] → z = [1, 2, 1], label 1.
        let parameters = ParameterVector([1, 0, 0, 0, 1, 0, 0, 0, 1])
        let batch = LabeledSamples(features: [1, 2], labels: [1], featureCount: 2, classCount: 3)
        let (loss, gradient) = try model.lossAndGradient(parameters: parameters, on: batch)
        // loss = log(e + e² + e) − 2 = log(2 + e) − 1
        #expect(abs(loss - 0.551_444_713_932) < 1e-6)
        // p = [1, e, 1] / (2 + e); dz = p − onehot(1); dW = x ⊗ dz; db = dz
        let q = 1 / (2 + M_E)
        let dz = [q, M_E * q - 1, q]
        let expected = dz + dz.map { 2 * $0 } + dz
        for (g, e) in zip(gradient.values, expected) { #expect(abs(Double(g) - e) < 1e-6) }

        // Zero parameters: every class equally likely, loss = log 3 whatever the input.
        let uniform = try model.lossAndGradient(parameters: ParameterVector(zeros: 9), on: batch)
        #expect(abs(uniform.loss - log(3.0)) < 1e-6)
    }

    @Test func lossIsStableForHugeLogits() throws {
        let model = try SoftmaxRegression(inputs: 1, classes: 2)
        let parameters = ParameterVector([1000, -1000, 0, 0])
        let batch = LabeledSamples(features: [1, 1], labels: [0, 1], featureCount: 1, classCount: 2)
        let (loss, gradient) = try model.lossAndGradient(parameters: parameters, on: batch)
        // Sample 0: loss 0; sample 1: loss 2000. Mean 1000.
        #expect(abs(loss - 1000) < 1e-3)
        #expect(gradient.isFinite)
    }

    @Test func gradientMatchesFiniteDifferences() throws {
        let model = try SoftmaxRegression(inputs: 5, classes: 4)
        var generator = SeededGenerator(seed: 21)
        var parameters = model.initialParameters(using: &generator)
        for j in 0..<4 { parameters.values[20 + j] = Float(generator.normal() * 0.2) }
        let batch = Fixtures.randomSamples(count: 9, features: 5, classes: 4, seed: 22)
        let (_, gradient) = try model.lossAndGradient(parameters: parameters, on: batch)
        let inputs = batch.features.map(Double.init)
        var point = parameters.values.map(Double.init)
        let epsilon = 1e-6
        for index in 0..<model.parameterCount {
            let saved = point[index]
            point[index] = saved + epsilon
            let plus = Fixtures.referenceLoss(widths: [5, 4], parameters: point, inputs: inputs, labels: batch.labels)
            point[index] = saved - epsilon
            let minus = Fixtures.referenceLoss(widths: [5, 4], parameters: point, inputs: inputs, labels: batch.labels)
            point[index] = saved
            let numeric = (plus - minus) / (2 * epsilon)
            #expect(abs(Double(gradient.values[index]) - numeric) <= 1e-4 + 1e-3 * abs(numeric), "parameter \(index)")
        }
    }

    @Test func initialisationIsHeNormal() throws {
        let model = try SoftmaxRegression()
        var generator = SeededGenerator(seed: 1)
        let parameters = model.initialParameters(using: &generator).values
        let weights = parameters[0..<7_840]
        let std = (weights.reduce(0.0) { $0 + Double($1) * Double($1) } / 7_840).squareRoot()
        #expect(abs(std / (2.0 / 784).squareRoot() - 1) < 0.03)
        #expect(parameters[7_840...].allSatisfy { $0 == 0 })
    }
}
