import FedArenaCore
import FedArenaNumerics

/// Trains a copy of the global parameters on one client's samples: `E` epochs of mini-batch
/// SGD, batch `B`, the last partial batch kept, a fresh permutation of the samples each epoch.
///
/// All working memory (the parameter copy, the batch gather buffer, activations, deltas and the
/// velocity) is allocated once in `init`, so a training step allocates nothing: rows are
/// gathered with `memcpy`, and plain SGD is fused into the backward pass
/// (``Model/sgdStep(parameters:inputs:labels:learningRate:workspace:)``). With momentum or
/// weight decay the gradient is accumulated straight into the velocity (``SGD/beginStep(velocity:parameters:)``).
///
/// A trainer is mutable scratch for one task at a time (it is not `Sendable`): give each client
/// task its own and reuse it across rounds.
///
/// ```swift
/// let trainer = try LocalTrainer(model: model, configuration: .init(scenario.training))
/// let result = try trainer.train(
///     from: global, on: clientSamples, seed: scenario.seed, stream: [UInt64(round), UInt64(client)])
/// // epoch e's order is SeededGenerator(seed: scenario.seed, stream: [round, client, e]).permutation(n)
/// ```
///
/// The same epoch generator, after the shuffle, is the workspace's ``ModelWorkspace/trainingGenerator``
/// for the epoch: a model with dropout draws its masks from it.
public final class LocalTrainer {
    /// Local training hyper-parameters.
    public struct Configuration: Sendable, Equatable {
        /// Local epochs `E`.
        public var epochs: Int
        /// The mini-batch size `B`; the last batch of an epoch may be smaller.
        public var batchSize: Int
        /// The optimizer.
        public var optimizer: SGD

        /// Creates a configuration.
        /// - Parameters:
        ///   - epochs: local epochs, at least 1.
        ///   - batchSize: the mini-batch size, at least 1.
        ///   - optimizer: the optimizer.
        /// - Throws: ``ModelError/Code/invalidConfiguration`` for a non-positive count.
        public init(epochs: Int = 1, batchSize: Int = 32, optimizer: SGD) throws(ModelError) {
            guard epochs >= 1 else { throw ModelError(.invalidConfiguration, "local epochs must be at least 1, got \(epochs)") }
            guard batchSize >= 1 else { throw ModelError(.invalidConfiguration, "batch size must be at least 1, got \(batchSize)") }
            self.epochs = epochs
            self.batchSize = batchSize
            self.optimizer = optimizer
        }

        /// The local part of a scenario's training section.
        /// - Parameter training: epochs, batch size, learning rate, momentum and weight decay.
        /// - Throws: ``ModelError/Code/invalidConfiguration`` for impossible values.
        public init(_ training: TrainingConfig) throws(ModelError) {
            try self.init(
                epochs: training.localEpochs, batchSize: training.batchSize,
                optimizer: SGD(
                    learningRate: Float(training.learningRate), momentum: Float(training.momentum),
                    weightDecay: Float(training.weightDecay)))
        }
    }

    /// The model trained.
    public let model: any Model
    /// The hyper-parameters.
    public let configuration: Configuration

    private let workspace: ModelWorkspace
    private let weights: UnsafeMutableBufferPointer<Float>
    private let velocity: UnsafeMutableBufferPointer<Float>
    private let batchFeatures: UnsafeMutableBufferPointer<Float>
    private let batchLabels: UnsafeMutableBufferPointer<Int32>

    /// Creates a trainer and allocates its working memory.
    /// - Parameters:
    ///   - model: the model to train.
    ///   - configuration: epochs, batch size and optimizer.
    public init(model: any Model, configuration: Configuration) {
        self.model = model
        self.configuration = configuration
        let batch = configuration.batchSize
        workspace = model.makeWorkspace(batchCapacity: batch)
        weights = .allocate(capacity: model.parameterCount)
        weights.initialize(repeating: 0)
        velocity = .allocate(capacity: configuration.optimizer.isPlain ? 0 : model.parameterCount)
        velocity.initialize(repeating: 0)
        batchFeatures = .allocate(capacity: batch * model.inputCount)
        batchFeatures.initialize(repeating: 0)
        batchLabels = .allocate(capacity: batch)
        batchLabels.initialize(repeating: 0)
    }

    deinit {
        weights.deallocate()
        velocity.deallocate()
        batchFeatures.deallocate()
        batchLabels.deallocate()
    }

    /// Trains from `global` on `samples`, epoch `e` shuffled by
    /// `SeededGenerator(seed: seed, stream: stream + [e])`.
    /// - Parameters:
    ///   - global: the global parameters `w_global` (not modified).
    ///   - samples: the client's samples.
    ///   - seed: the scenario seed.
    ///   - stream: the stream path without the epoch, e.g. `[round, client]`.
    /// - Returns: the local parameters, the update and the epoch losses.
    /// - Throws: ``ModelError`` when the parameters or samples do not fit the model.
    public func train(
        from global: ParameterVector, on samples: LabeledSamples, seed: UInt64, stream: [UInt64]
    ) throws(ModelError) -> LocalTrainingResult {
        try train(from: global, on: samples) { epoch in SeededGenerator(seed: seed, stream: stream + [UInt64(epoch)]) }
    }

    /// What ``train(from:on:epochGenerator:observe:)`` shows an observer after each step: the
    /// 1-based step, the batch's rows and labels, and the weights after the step (valid only
    /// during the call).
    public typealias StepObserver = (
        _ step: Int, _ inputs: UnsafeBufferPointer<Float>, _ labels: UnsafeBufferPointer<Int32>, _ weightsAfter: UnsafeBufferPointer<Float>
    ) -> Void

    /// Trains from `global` on `samples`, taking each epoch's shuffling generator from the caller.
    /// - Parameters:
    ///   - global: the global parameters `w_global` (not modified).
    ///   - samples: the client's samples.
    ///   - epochGenerator: the generator for epoch `e` (0-based); its `permutation(n)` orders the samples.
    ///   - observe: called after every step (the training audit commits to each one), or `nil`.
    /// - Returns: the local parameters, the update and the epoch losses.
    /// - Throws: ``ModelError`` when the parameters or samples do not fit the model.
    public func train(
        from global: ParameterVector, on samples: LabeledSamples, epochGenerator: (_ epoch: Int) -> SeededGenerator,
        observe: StepObserver? = nil
    ) throws(ModelError) -> LocalTrainingResult {
        let count = samples.count
        return try run(from: global, on: samples, sampleCount: count, observe: observe) { epoch in
            var generator = epochGenerator(epoch)
            let order = generator.permutation(count)
            // Dropout masks continue the epoch's generator after its shuffle.
            return (order, generator)
        }
    }

    /// Trains from `global` on rows of `samples` in orders the caller chose: epoch `e` runs the
    /// batches `orders[e][k·B ..< (k+1)·B]` (the last shorter). A client that poisons only some
    /// of its steps (``PoisonStepSchedule``) trains this way, its real rows and its poisoned rows
    /// in one sample set.
    /// - Parameters:
    ///   - global: the global parameters `w_global` (not modified).
    ///   - samples: every row an order may name.
    ///   - orders: one order per epoch (``Configuration/epochs`` of them), each of the same
    ///     length `n`, the sample count the result reports.
    ///   - dropoutGenerator: the generator of epoch `e`'s dropout masks (unused without dropout).
    ///   - observe: called after every step, or `nil`.
    /// - Returns: the local parameters, the update and the epoch losses; `sampleCount` is `n`.
    /// - Throws: ``ModelError`` when the parameters or samples do not fit the model, or
    ///   `.invalidConfiguration` when the orders do not match the epochs or name a missing row.
    public func train(
        from global: ParameterVector, on samples: LabeledSamples, orders: [[Int]], dropoutGenerator: (_ epoch: Int) -> SeededGenerator,
        observe: StepObserver? = nil
    ) throws(ModelError) -> LocalTrainingResult {
        guard orders.count == configuration.epochs else {
            throw ModelError(.invalidConfiguration, "a batch schedule has \(orders.count) epochs, the training \(configuration.epochs)")
        }
        let count = orders.first?.count ?? 0
        for (epoch, order) in orders.enumerated() {
            guard order.count == count else {
                throw ModelError(.invalidConfiguration, "epoch \(epoch) of a batch schedule has \(order.count) rows, epoch 0 \(count)")
            }
            if let bad = order.first(where: { $0 < 0 || $0 >= samples.count }) {
                throw ModelError(.invalidConfiguration, "epoch \(epoch) of a batch schedule names row \(bad) of \(samples.count)")
            }
        }
        return try run(from: global, on: samples, sampleCount: count, observe: observe) { epoch in (orders[epoch], dropoutGenerator(epoch)) }
    }

    /// The shared loop: epoch `e` runs `plan(e).order` with `plan(e).generator` for dropout.
    private func run(
        from global: ParameterVector, on samples: LabeledSamples, sampleCount count: Int, observe: StepObserver?,
        plan: (_ epoch: Int) -> (order: [Int], generator: SeededGenerator)
    ) throws(ModelError) -> LocalTrainingResult {
        try model.validate(parameters: global)
        try model.validate(samples: samples)
        _ = global.values.withUnsafeBufferPointer { weights.update(fromContentsOf: $0) }
        if !configuration.optimizer.isPlain { velocity.update(repeating: 0) }
        var losses = [Double]()
        var steps = 0
        if count > 0 {
            losses.reserveCapacity(configuration.epochs)
            for epoch in 0..<configuration.epochs {
                let (order, generator) = plan(epoch)
                workspace.trainingGenerator = generator
                let (loss, epochSteps) = runEpoch(samples: samples, order: order, firstStep: steps + 1, observe: observe)
                workspace.trainingGenerator = nil
                losses.append(loss)
                steps += epochSteps
            }
        }
        let local = Array(weights)
        return LocalTrainingResult(
            parameters: ParameterVector(local),
            delta: ParameterVector(VectorMath.difference(local, global.values)),
            epochLosses: losses, sampleCount: count, steps: steps)
    }

    /// One pass over `samples` in `order`. The hot loop: no allocation, no copy-on-write.
    /// - Returns: the mean loss over the samples and the number of steps.
    private func runEpoch(samples: LabeledSamples, order: [Int], firstStep: Int, observe: StepObserver?) -> (Double, Int) {
        let model = self.model
        let optimizer = configuration.optimizer
        let plain = optimizer.isPlain
        let learningRate = optimizer.learningRate
        let batch = configuration.batchSize
        let features = model.inputCount
        let count = order.count
        let weights = self.weights
        let velocity = self.velocity
        let workspace = self.workspace
        let gatherX = batchFeatures.baseAddress!
        let gatherY = batchLabels.baseAddress!
        var lossSum = 0.0
        var steps = 0
        samples.features.withUnsafeBufferPointer { x in
            samples.labels.withUnsafeBufferPointer { y in
                order.withUnsafeBufferPointer { index in
                    let source = x.baseAddress!
                    var start = 0
                    while start < count {
                        let rows = min(batch, count - start)
                        for row in 0..<rows {
                            let sample = index[start + row]
                            (gatherX + row * features).update(from: source + sample * features, count: features)
                            gatherY[row] = y[sample]
                        }
                        let inputs = UnsafeBufferPointer(start: gatherX, count: rows * features)
                        let labels = UnsafeBufferPointer(start: gatherY, count: rows)
                        let loss: Double
                        if plain {
                            loss = model.sgdStep(
                                parameters: weights, inputs: inputs, labels: labels, learningRate: learningRate,
                                workspace: workspace)
                        } else {
                            optimizer.beginStep(velocity: velocity, parameters: UnsafeBufferPointer(weights))
                            loss = model.lossAndGradient(
                                parameters: UnsafeBufferPointer(weights), inputs: inputs, labels: labels,
                                gradient: velocity, scale: 1, accumulate: true, workspace: workspace)
                            optimizer.finishStep(parameters: weights, velocity: UnsafeBufferPointer(velocity))
                        }
                        lossSum += loss * Double(rows)
                        if let observe { observe(firstStep + steps, inputs, labels, UnsafeBufferPointer(weights)) }
                        steps += 1
                        start += rows
                    }
                }
            }
        }
        return (lossSum / Double(count), steps)
    }

    /// Recomputes one plain SGD step exactly as ``train(from:on:epochGenerator:observe:)`` takes it
    /// (same kernels, same gather buffers), for the coordinator's training audit.
    /// - Parameters:
    ///   - weights: the weights before the step.
    ///   - batch: the step's rows and labels (at most the batch size).
    /// - Returns: the weights after the step.
    /// - Throws: ``ModelError`` `.invalidConfiguration` with momentum or weight decay (the step
    ///   would depend on an optimizer state no opening carries), or when the weights or batch do
    ///   not fit the model or the batch is empty or larger than the batch size.
    public func replayStep(from weights: ParameterVector, batch: LabeledSamples) throws(ModelError) -> [Float] {
        guard configuration.optimizer.isPlain else {
            throw ModelError(.invalidConfiguration, "a step can be replayed only with plain SGD (no momentum, no weight decay)")
        }
        try model.validate(parameters: weights)
        try model.validate(samples: batch)
        let rows = batch.count
        guard rows >= 1, rows <= configuration.batchSize else {
            throw ModelError(.invalidConfiguration, "a batch of \(rows) rows cannot be a step of batch size \(configuration.batchSize)")
        }
        _ = weights.values.withUnsafeBufferPointer { self.weights.update(fromContentsOf: $0) }
        let features = model.inputCount
        batch.features.withUnsafeBufferPointer { x in
            batchFeatures.baseAddress!.update(from: x.baseAddress!, count: rows * features)
        }
        batch.labels.withUnsafeBufferPointer { y in batchLabels.baseAddress!.update(from: y.baseAddress!, count: rows) }
        workspace.trainingGenerator = nil
        _ = model.sgdStep(
            parameters: self.weights, inputs: UnsafeBufferPointer(start: batchFeatures.baseAddress!, count: rows * features),
            labels: UnsafeBufferPointer(start: batchLabels.baseAddress!, count: rows), learningRate: configuration.optimizer.learningRate,
            workspace: workspace)
        return Array(self.weights)
    }
}
