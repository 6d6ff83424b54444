import FedArenaCore
import FedArenaModels
import FedArenaNumerics
import Testing

@Suite struct LocalTrainerTests {
    static let model = try! MLP(inputs: 6, hidden: [8], classes: 3)

    static func initial(seed: UInt64 = 1) -> ParameterVector {
        var generator = SeededGenerator(seed: seed, stream: [99])
        return model.initialParameters(using: &generator)
    }

    @Test func trainingReducesLossOnSeparableData() throws {
        let data = Fixtures.blobs(classes: 3, features: 6, perClass: 20, seed: 4)
        let trainer = LocalTrainer(
            model: Self.model, configuration: try .init(epochs: 15, batchSize: 8, optimizer: SGD(learningRate: 0.1)))
        let global = Self.initial()
        let evaluator = try Evaluator(model: Self.model)
        let before = try evaluator.evaluate(global, on: data)
        let result = try trainer.train(from: global, on: data, seed: 7, stream: [0, 0])
        let after = try evaluator.evaluate(result.parameters, on: data)
        #expect(result.epochLosses.count == 15)
        #expect(result.epochLosses.last! < 0.2 * result.epochLosses.first!)
        #expect(after.loss < 0.1 * before.loss)
        #expect(after.accuracy == 1)
        #expect(result.steps == 15 * 8)  // ⌈60 / 8⌉ = 8 steps an epoch, the last one of 4 samples
        #expect(result.sampleCount == 60)
    }

    /// Explicit batch orders (partial poisoning's schedules): the generator's own permutations
    /// given as orders reproduce the shuffled training bit for bit; rows past the orders' length
    /// are used only where an order names them (40 real rows + 40 others: orders over the first
    /// 40 equal training on those 40 alone); bad schedules are refused.
    @Test func explicitOrdersReproduceShuffledTraining() throws {
        let data = Fixtures.randomSamples(count: 40, features: 6, classes: 3, seed: 6)
        let configuration = try LocalTrainer.Configuration(epochs: 2, batchSize: 16, optimizer: SGD(learningRate: 0.05))
        let trainer = LocalTrainer(model: Self.model, configuration: configuration)
        let shuffled = try trainer.train(from: Self.initial(), on: data, seed: 3, stream: [2, 9])
        let orders = (0..<2).map { epoch in
            var generator = SeededGenerator(seed: 3, stream: [2, 9, UInt64(epoch)])
            return generator.permutation(40)
        }
        var doubled = data
        let others = Fixtures.randomSamples(count: 40, features: 6, classes: 3, seed: 7)
        doubled.features += others.features
        doubled.labels += others.labels
        let ordered = try trainer.train(
            from: Self.initial(), on: doubled, orders: orders, dropoutGenerator: { SeededGenerator(seed: 0, stream: [UInt64($0)]) })
        #expect(ordered == shuffled)
        #expect(ordered.sampleCount == 40 && ordered.steps == 2 * 3)
        // Naming the other rows changes the result.
        let poisoned = try trainer.train(
            from: Self.initial(), on: doubled, orders: orders.map { $0.map { $0 + 40 } }, dropoutGenerator: { SeededGenerator(seed: 0, stream: [UInt64($0)]) })
        #expect(poisoned.delta != shuffled.delta && poisoned.sampleCount == 40)
        #expect(throws: ModelError.self) {
            try trainer.train(from: Self.initial(), on: data, orders: [orders[0]], dropoutGenerator: { SeededGenerator(seed: UInt64($0)) })
        }
        #expect(throws: ModelError.self) {
            try trainer.train(from: Self.initial(), on: data, orders: [orders[0], [0, 80]], dropoutGenerator: { SeededGenerator(seed: UInt64($0)) })
        }
    }

    @Test func sameSeedGivesBitIdenticalParametersAndOtherStreamsDiffer() throws {
        let data = Fixtures.randomSamples(count: 40, features: 6, classes: 3, seed: 5)
        let configuration = try LocalTrainer.Configuration(epochs: 2, batchSize: 16, optimizer: SGD(learningRate: 0.05))
        let first = try LocalTrainer(model: Self.model, configuration: configuration)
            .train(from: Self.initial(), on: data, seed: 3, stream: [2, 9])
        let reused = LocalTrainer(model: Self.model, configuration: configuration)
        _ = try reused.train(from: Self.initial(seed: 2), on: data, seed: 1, stream: [0, 0])
        let second = try reused.train(from: Self.initial(), on: data, seed: 3, stream: [2, 9])
        #expect(first == second)
        let other = try reused.train(from: Self.initial(), on: data, seed: 3, stream: [2, 10])
        #expect(other.parameters != first.parameters)
    }

    @Test func followsThePermutationOfEachEpochAndKeepsThePartialBatch() throws {
        let data = Fixtures.randomSamples(count: 21, features: 6, classes: 3, seed: 6)
        let lr: Float = 0.2
        let trainer = LocalTrainer(
            model: Self.model, configuration: try .init(epochs: 2, batchSize: 8, optimizer: SGD(learningRate: lr)))
        let global = Self.initial()
        let result = try trainer.train(from: global, on: data, seed: 11, stream: [4, 5])
        #expect(result.steps == 6)

        // The same steps by hand: epoch e's order is SeededGenerator(seed: 11, stream: [4, 5, e]).permutation(21).
        var weights = global.values
        let workspace = Self.model.makeWorkspace(batchCapacity: 8)
        var losses = [Double]()
        for epoch in 0..<2 {
            var generator = SeededGenerator(seed: 11, stream: [4, 5, UInt64(epoch)])
            let ordered = data.subset(generator.permutation(21))
            var lossSum = 0.0
            for start in stride(from: 0, to: 21, by: 8) {
                let batch = ordered.subset(start..<min(start + 8, 21))
                let loss = batch.features.withUnsafeBufferPointer { x in
                    batch.labels.withUnsafeBufferPointer { y in
                        weights.withUnsafeMutableBufferPointer { w in
                            Self.model.sgdStep(parameters: w, inputs: x, labels: y, learningRate: lr, workspace: workspace)
                        }
                    }
                }
                lossSum += loss * Double(batch.count)
            }
            losses.append(lossSum / 21)
        }
        #expect(result.parameters.values == weights)
        #expect(result.epochLosses == losses)
        #expect(result.delta.values == VectorMath.difference(weights, global.values))
    }

    @Test func momentumAndWeightDecayMatchTheReferenceOptimizer() throws {
        let data = Fixtures.randomSamples(count: 20, features: 6, classes: 3, seed: 7)
        let optimizer = try SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        let trainer = LocalTrainer(model: Self.model, configuration: try .init(epochs: 2, batchSize: 6, optimizer: optimizer))
        let global = Self.initial()
        let result = try trainer.train(from: global, on: data, seed: 1, stream: [0])

        var weights = global.values
        var velocity = [Float](repeating: 0, count: Self.model.parameterCount)
        for epoch in 0..<2 {
            var generator = SeededGenerator(seed: 1, stream: [0, UInt64(epoch)])
            let ordered = data.subset(generator.permutation(20))
            for start in stride(from: 0, to: 20, by: 6) {
                let batch = ordered.subset(start..<min(start + 6, 20))
                let (_, gradient) = try Self.model.lossAndGradient(parameters: ParameterVector(weights), on: batch)
                optimizer.step(parameters: &weights, gradient: gradient.values, velocity: &velocity)
            }
        }
        for (a, b) in zip(result.parameters.values, weights) { #expect(abs(a - b) < 1e-5) }
    }

    @Test func epochGeneratorClosureIsUsedPerEpoch() throws {
        let data = Fixtures.randomSamples(count: 10, features: 6, classes: 3, seed: 8)
        let trainer = LocalTrainer(
            model: Self.model, configuration: try .init(epochs: 3, batchSize: 4, optimizer: SGD(learningRate: 0.1)))
        var epochs = [Int]()
        let viaClosure = try trainer.train(from: Self.initial(), on: data) { epoch in
            epochs.append(epoch)
            return SeededGenerator(seed: 5, stream: [1, 2, UInt64(epoch)])
        }
        #expect(epochs == [0, 1, 2])
        let viaStream = try trainer.train(from: Self.initial(), on: data, seed: 5, stream: [1, 2])
        #expect(viaClosure == viaStream)
    }

    @Test func emptyDatasetLeavesTheParametersUnchanged() throws {
        let empty = LabeledSamples(features: [], labels: [], featureCount: 6, classCount: 3)
        let trainer = LocalTrainer(
            model: Self.model, configuration: try .init(epochs: 2, batchSize: 4, optimizer: SGD(learningRate: 0.1)))
        let result = try trainer.train(from: Self.initial(), on: empty, seed: 0, stream: [])
        #expect(result.parameters == Self.initial())
        #expect(result.delta == ParameterVector(zeros: Self.model.parameterCount))
        #expect(result.lastEpochLoss == nil)
        #expect(result.steps == 0)
    }

    @Test func mismatchesAndBadConfigurationsThrow() throws {
        let trainer = LocalTrainer(
            model: Self.model, configuration: try .init(epochs: 1, batchSize: 4, optimizer: SGD(learningRate: 0.1)))
        let wrongFeatures = Fixtures.randomSamples(count: 4, features: 7, classes: 3, seed: 1)
        #expect { try trainer.train(from: Self.initial(), on: wrongFeatures, seed: 0, stream: []) } throws: {
            ($0 as? ModelError)?.code == .featureCountMismatch
        }
        let data = Fixtures.randomSamples(count: 4, features: 6, classes: 3, seed: 1)
        #expect { try trainer.train(from: ParameterVector(zeros: 5), on: data, seed: 0, stream: []) } throws: {
            ($0 as? ModelError)?.code == .parameterCountMismatch
        }
        #expect { try LocalTrainer.Configuration(epochs: 0, batchSize: 4, optimizer: SGD(learningRate: 0.1)) } throws: {
            ($0 as? ModelError)?.code == .invalidConfiguration
        }
        #expect { try LocalTrainer.Configuration(epochs: 1, batchSize: 0, optimizer: SGD(learningRate: 0.1)) } throws: {
            ($0 as? ModelError)?.code == .invalidConfiguration
        }
        let fromScenario = try LocalTrainer.Configuration(
            TrainingConfig(rounds: 3, localEpochs: 2, batchSize: 16, learningRate: 0.05, momentum: 0.5, weightDecay: 0.001))
        #expect(fromScenario.epochs == 2 && fromScenario.batchSize == 16)
        #expect(fromScenario.optimizer == (try SGD(learningRate: 0.05, momentum: 0.5, weightDecay: 0.001)))
    }

    /// The training audit's contract: the observer sees every step in order, and replaying a
    /// step from the weights before it on its batch gives the same bits as training did.
    @Test func everyObservedStepReplaysBitForBit() throws {
        let model = try MLP(inputs: 4, hidden: [3], classes: 3)
        let trainer = LocalTrainer(model: model, configuration: try LocalTrainer.Configuration(epochs: 2, batchSize: 4, optimizer: SGD(learningRate: 0.3)))
        let samples = LabeledSamples(
            features: (0..<44).map { Float(($0 * 5) % 13) / 13 }, labels: (0..<11).map { Int32($0 % 3) }, featureCount: 4, classCount: 3)
        var generator = SeededGenerator(seed: 2)
        let global = model.initialParameters(using: &generator)
        var steps = [(batch: LabeledSamples, after: [Float])]()
        let result = try trainer.train(
            from: global, on: samples, epochGenerator: { SeededGenerator(seed: 4, stream: [UInt64($0)]) },
            observe: { step, x, y, w in
                #expect(step == steps.count + 1)
                steps.append((LabeledSamples(features: Array(x), labels: Array(y), featureCount: 4, classCount: 3), Array(w)))
            })
        // 11 samples in batches of 4: 4, 4, 3 per epoch, 6 steps.
        #expect(steps.map(\.batch.count) == [4, 4, 3, 4, 4, 3])
        #expect(steps.last?.after == result.parameters.values)
        let replayer = LocalTrainer(model: model, configuration: trainer.configuration)
        var before = global
        for (batch, after) in steps {
            let replayed = try replayer.replayStep(from: before, batch: batch)
            #expect(replayed.elementsEqual(after) { $0.bitPattern == $1.bitPattern })
            before = ParameterVector(after)
        }
        #expect(throws: ModelError.self) { try replayer.replayStep(from: global, batch: samples) }
        let momentum = LocalTrainer(model: model, configuration: try LocalTrainer.Configuration(batchSize: 4, optimizer: SGD(learningRate: 0.3, momentum: 0.9)))
        #expect(throws: ModelError.self) { try momentum.replayStep(from: global, batch: steps[0].batch) }
    }
}
