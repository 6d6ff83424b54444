import FedArenaCore
import FedArenaModels
import FedArenaNumerics
import Testing

@Suite struct EvaluatorTests {
    @Test func chunkedEvaluationMatchesOneShotLogits() throws {
        let model = try MLP(inputs: 5, hidden: [7], classes: 4)
        var generator = SeededGenerator(seed: 3)
        let parameters = model.initialParameters(using: &generator)
        let data = Fixtures.randomSamples(count: 23, features: 5, classes: 4, seed: 4)
        let reference = try Evaluation(
            logits: try model.logits(parameters: parameters, features: data.features), labels: data.labels, classCount: 4)
        for chunk in [1, 5, 23, 100] {
            let evaluation = try Evaluator(model: model, chunkSize: chunk).evaluate(parameters, on: data)
            #expect(evaluation.predictions == reference.predictions)
            #expect(evaluation.confusion == reference.confusion)
            #expect(abs(evaluation.loss - reference.loss) < 1e-6)
            #expect(try Evaluator(model: model, chunkSize: chunk).predictions(parameters, on: data) == reference.predictions)
        }
        let mean = try model.lossAndGradient(parameters: parameters, on: data).loss
        #expect(abs(reference.loss - mean) < 1e-5)
    }

    @Test func accuracyOfAKnownModel() throws {
        // Softmax regression that predicts the index of the largest feature.
        let model = try SoftmaxRegression(inputs: 3, classes: 3)
        let parameters = ParameterVector([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0])
        let data = LabeledSamples(
            features: [5, 1, 0, 0, 2, 1, 0, 0, 9, 3, 4, 0], labels: [0, 1, 2, 0], featureCount: 3, classCount: 3)
        let evaluation = try Evaluator(model: model, chunkSize: 3).evaluate(parameters, on: data)
        #expect(evaluation.predictions == [0, 1, 2, 1])
        #expect(evaluation.accuracy == 0.75)
        #expect(evaluation.perClassAccuracy == [0.5, 1, 1])
    }

    @Test func rejectsEmptyOrMismatchedSets() throws {
        let model = try SoftmaxRegression(inputs: 3, classes: 2)
        let evaluator = try Evaluator(model: model)
        let parameters = ParameterVector(zeros: model.parameterCount)
        #expect { try evaluator.evaluate(parameters, on: LabeledSamples(features: [], labels: [], featureCount: 3, classCount: 2)) } throws: {
            ($0 as? ModelError)?.code == .emptyDataset
        }
        #expect { try evaluator.evaluate(parameters, on: LabeledSamples(features: [1, 2], labels: [0], featureCount: 2, classCount: 2)) } throws: {
            ($0 as? ModelError)?.code == .featureCountMismatch
        }
        #expect { try Evaluator(model: model, chunkSize: 0) } throws: { ($0 as? ModelError)?.code == .invalidConfiguration }
    }
}
