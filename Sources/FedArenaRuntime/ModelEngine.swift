import FedArenaAttacks
import FedArenaCore
import FedArenaModels
import FedArenaNumerics

/// The runtime's view of the model: building it from the scenario, the initial parameters,
/// local training of one client, evaluation and applying a global step.
///
/// Local training of client `c` in round `t` is shuffled by the stream
/// `[localTraining, t, c, epoch]` of ``RoundPlan``, so it is the same in every process.
struct ModelEngine: Sendable {
    let model: any Model
    let training: TrainingConfig
    let trainer: LocalTrainer.Configuration

    init(config: ScenarioConfig) throws(RuntimeError) {
        do {
            model = try config.model.makeModel(inputShape: config.dataset.shape, classes: config.dataset.classCount)
            trainer = try LocalTrainer.Configuration(config.training)
        } catch {
            throw RuntimeError(.configuration, "cannot build the model \(config.model): \(error)", cause: error)
        }
        training = config.training
    }

    var parameterCount: Int { model.parameterCount }

    func initialParameters(plan: RoundPlan) -> ParameterVector {
        var generator = plan.initialModelGenerator
        return model.initialParameters(using: &generator)
    }

    /// Trains `client` from `global` on its samples, shuffled by the client's epoch generators,
    /// or, for a partial-poisoning client, on this round's `schedule` of wholly real and wholly
    /// poisoned batches of `samples` (its ``PoisonStepPlan/samples``; dropout masks still from
    /// the epoch generators).
    /// - Returns: the update `w_local - w_global` and the last epoch's mean loss (NaN, "not
    ///   measured", when the client has no samples).
    /// - Throws: ``RuntimeError`` naming the client when its samples or schedule do not fit the model.
    func train(
        global: ParameterVector, on samples: LabeledSamples, schedule: PoisonStepSchedule? = nil, client: ClientID, round: Int, plan: RoundPlan,
        using localTrainer: LocalTrainer, observe: LocalTrainer.StepObserver? = nil
    ) throws(RuntimeError) -> (delta: ParameterVector, loss: Double) {
        let generator = { (epoch: Int) in plan.trainingGenerator(client: client, round: round, epoch: epoch) }
        do {
            let result = if let schedule {
                try localTrainer.train(from: global, on: samples, orders: schedule.orders, dropoutGenerator: generator, observe: observe)
            } else {
                try localTrainer.train(from: global, on: samples, epochGenerator: generator, observe: observe)
            }
            return (result.delta, result.lastEpochLoss ?? .nan)
        } catch {
            let what = schedule == nil ? "train" : "train its partial-poisoning schedule"
            throw RuntimeError(.configuration, "\(client) cannot \(what) in round \(round): \(error)", cause: error)
        }
    }

    /// A trainer with this scenario's hyper-parameters: reuse it for every client a process
    /// trains (its working memory is allocated once).
    func makeTrainer() -> LocalTrainer {
        LocalTrainer(model: model, configuration: trainer)
    }

    /// The coordinator's own update on its root set (FLTrust's `Δ_root`), or `nil` without a root set.
    /// - Throws: ``ModelError`` when the model cannot train on the root set (a validated
    ///   scenario rules it out; the round pipeline reports it rather than running without it).
    func rootUpdate(global: ParameterVector, rootSet: LabeledSamples, round: Int, plan: RoundPlan) throws(ModelError) -> ParameterVector? {
        guard rootSet.count > 0 else { return nil }
        let localTrainer = LocalTrainer(model: model, configuration: trainer)
        return try localTrainer.train(from: global, on: rootSet) { epoch in
            plan.rootTrainingGenerator(round: round, epoch: epoch)
        }.delta
    }

    /// Test loss, accuracy and per-class accuracy of `parameters`.
    /// - Throws: ``RuntimeError`` `.configuration` when the samples or parameters do not fit the
    ///   model (a validated scenario rules it out; a NaN accuracy would pass unnoticed).
    func evaluate(_ parameters: ParameterVector, on samples: LabeledSamples) throws(RuntimeError) -> TestMetrics {
        let evaluation: Evaluation
        do {
            evaluation = try Evaluator(model: model).evaluate(parameters, on: samples)
        } catch {
            throw RuntimeError(.configuration, "cannot evaluate the global model on \(samples.count) test samples: \(error)", cause: error)
        }
        return TestMetrics(
            accuracy: evaluation.accuracy, loss: evaluation.loss,
            perClassAccuracy: evaluation.perClassAccuracy.map { $0 ?? .nan })
    }

    /// The share of `probe` classified as `target` (the attack success rate of DESIGN.md: the
    /// probe is the source-class test samples for a targeted flip, the trigger-stamped
    /// non-target test samples for a backdoor).
    /// - Returns: NaN when the probe is empty (no sample to attack).
    /// - Throws: ``RuntimeError`` `.configuration` when the probe or parameters do not fit the model.
    func successRate(_ parameters: ParameterVector, probe: LabeledSamples, target: Int) throws(RuntimeError) -> Double {
        guard probe.count > 0 else { return .nan }
        let predictions: [Int32]
        do {
            predictions = try Evaluator(model: model).predictions(parameters, on: probe)
        } catch {
            throw RuntimeError(.configuration, "cannot measure the attack success rate on \(probe.count) probe samples: \(error)", cause: error)
        }
        return Double(predictions.filter { Int($0) == target }.count) / Double(predictions.count)
    }

    /// `w += η_g Δ`.
    func apply(step: ParameterVector, to parameters: inout ParameterVector, globalLearningRate: Double) {
        precondition(step.count == parameters.count, "the aggregate's dimension was validated")
        let rate = Float(globalLearningRate)
        parameters.values.withUnsafeMutableBufferPointer { weights in
            step.values.withUnsafeBufferPointer { delta in
                BLAS.saxpy(count: delta.count, alpha: rate, x: delta.baseAddress!, y: weights.baseAddress!)
            }
        }
    }
}

/// Accuracy and loss of the global model on the test set.
struct TestMetrics: Sendable {
    var accuracy: Double
    var loss: Double
    var perClassAccuracy: [Double]
}
