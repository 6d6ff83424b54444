import FedArenaCore
import FedArenaDefenses
import Foundation
import FedArenaNumerics
import Logging

/// The work of one round once its updates are collected, as one pure, synchronous pipeline:
///
/// 1. **validate** each update's content (dimension, finite values, sample count); a bad
///    update is rejected with a reason, the others go on;
/// 2. **quorum**: fewer valid updates than `clients.quorum` of the selected leaves the model
///    unchanged;
/// 3. **detect**: the scenario's detectors score every client (with the root update, sketches
///    and revealed samples they declared they need);
/// 4. **decide**: fusion and policy turn scores into per-client weight factors (1 accept,
///    0 exclude, a factor in (0, 1) for `downweight`), carried in ``ClientUpdate/weight``;
/// 5. **aggregate**: pre-aggregation and the robust rule, through the degraded-round policy,
///    which reports the rule that actually ran.
///
/// The coordinator actor only moves messages (sender, round and duplicate checks need its
/// session state) and hands this pipeline a ``RoundInput``; the pipeline's only state across
/// rounds is ``PipelineState`` (what a checkpoint saves). Given the same input and state it
/// returns the same bits: updates are processed in ``ClientID`` order whatever their arrival
/// order, and its randomness comes from the round's seeded streams.
public struct RoundPipeline: Sendable {
    let config: ScenarioConfig
    let plan: RoundPlan
    let model: ModelEngine
    let defense: DefenseEngine
    let detection: DetectionEngine?
    let rootSet: LabeledSamples
    let auditReference: (samples: LabeledSamples, fittedOn: [Int])?
    /// The training audit's verifier, when a detector asked for the audit.
    let trainingAudit: TrainingAuditVerifier?

    /// Resolves a scenario into its engines (once per process).
    /// - Parameters:
    ///   - config: the validated scenario.
    ///   - rootSet: the coordinator's root set (may be empty).
    /// - Throws: ``RuntimeError`` `.configuration` when the model, rule or detectors cannot be built.
    public init(config: ScenarioConfig, rootSet: LabeledSamples) throws(RuntimeError) {
        self.config = config
        self.plan = RoundPlan(config: config)
        self.model = try ModelEngine(config: config)
        self.defense = try DefenseEngine(config: config)
        do {
            self.detection = try DetectionEngine(config: config)
        } catch {
            throw RuntimeError(.configuration, "cannot build the detectors: \(error)", cause: error)
        }
        self.rootSet = rootSet
        if detection?.requirements.revealedSamples != nil {
            self.auditReference = try DetectionEngine.referenceSynthetic(
                rootSet: rootSet, holdout: detection?.requirements.referenceHoldout == true, seed: config.seed)
        } else {
            self.auditReference = nil
        }
        if let request = detection?.requirements.trainingAudit {
            self.trainingAudit = try TrainingAuditVerifier(
                request: request, model: model.model, trainer: model.trainer, seed: config.seed, modelSpec: config.model)
        } else {
            self.trainingAudit = nil
        }
    }

    /// The model's parameter count `d`.
    public var parameterCount: Int { model.parameterCount }

    /// The scenario's initial global model `w_0` (seeded), as every run of it starts.
    public var initialModel: ParameterVector { model.initialParameters(plan: plan) }

    /// The name of the configured aggregation rule.
    public var ruleName: String { defense.name }

    /// Runs one round.
    /// - Parameters:
    ///   - input: the round's collected updates and the model they started from.
    ///   - state: the pipeline's memory; updated in place.
    ///   - logger: where decisions go.
    /// - Returns: every stage's outcome, from which the coordinator applies the step and
    ///   builds the round's records.
    public func run(_ input: RoundInput, state: inout PipelineState, logger: Logger) -> RoundOutcome {
        var outcome = RoundOutcome(ruleUsed: defense.name)
        let round = input.round

        // 1. Validate the content of every update, in client order.
        var collected: RoundUpdates
        var listed: [ClientUpdate]?
        if let block = input.collected {
            collected = block
            var kept = [Int]()
            for row in 0..<collected.count {
                let matrix = collected.matrix
                let reason = Self.problem(
                    client: matrix.clients[row], count: matrix.dimension, sampleCount: matrix.sampleCounts[row],
                    firstNonFinite: matrix.firstNonFiniteCoordinate(row), value: { matrix.values[row * matrix.dimension + $0] },
                    weight: matrix.weights[row], parameterCount: parameterCount)
                if let reason {
                    logger.warning("round \(round): \(matrix.clients[row])'s update rejected: \(reason)")
                    outcome.rejections.append(RoundOutcome.Rejection(client: matrix.clients[row], reason: reason))
                    continue
                }
                if !collected.details[row].trainLoss.isFinite { outcome.nonFiniteTrainLosses += 1 }
                kept.append(row)
            }
            collected.keep(rows: kept)
        } else {
            var valid = [ClientUpdate]()
            for update in input.updates.sorted(by: { $0.client < $1.client }) {
                if let reason = Self.problem(with: update, parameterCount: parameterCount) {
                    logger.warning("round \(round): \(update.client)'s update rejected: \(reason)")
                    outcome.rejections.append(RoundOutcome.Rejection(client: update.client, reason: reason))
                    continue
                }
                if !update.trainLoss.isFinite { outcome.nonFiniteTrainLosses += 1 }
                valid.append(update)
            }
            do throws(AggregationError) {
                collected = try RoundUpdates(valid, for: defense.name)
            } catch {
                outcome.validated = valid.map(\.client)
                outcome.degradedReason = "\(defense.name) failed: \(error); the model is unchanged"
                logger.error("round \(round): \(outcome.degradedReason!)")
                return outcome
            }
            listed = valid
        }
        outcome.validated = collected.clients

        // 1b. The training audit: recompute the opened steps of every valid update.
        var audits = [ClientID: TrainingAuditVerdict]()
        if let trainingAudit {
            let start = ContinuousClock.now
            for update in listed ?? collected.updates {
                let verdict = trainingAudit.verify(update, global: input.globalModel, round: round, openings: input.openings[update.client])
                if let failure = verdict.failure {
                    logger.info("round \(round): \(update.client)'s training audit failed (\(failure.rawValue)): \(verdict.message)")
                }
                audits[update.client] = verdict
            }
            outcome.trainingAudits = audits
            outcome.trainingAuditSeconds = start.duration(to: .now).seconds
        }

        // 2. Quorum.
        let needed = max(1, Int((config.clients.quorum * Double(input.selected.count)).rounded(.up)))
        guard collected.count >= needed else {
            outcome.degradedReason =
                "quorum not met: \(collected.count) of \(input.selected.count) updates are valid, \(needed) needed; the model is unchanged"
            logger.warning("round \(round): \(outcome.degradedReason!)")
            return outcome
        }

        // 3-4. Detect and decide.
        var context = RoundContext(
            round: round, globalModel: input.globalModel, previousAggregate: state.previousAggregate,
            expectedUpdates: input.selected.count, memory: state.aggregatorMemory)
        if defense.requiresReferenceUpdate || detection?.requirements.rootUpdate == true {
            do {
                context.referenceUpdate = try model.rootUpdate(global: input.globalModel, rootSet: rootSet, round: round, plan: plan)
            } catch {
                // Said, not swallowed: the rule or detectors that needed it then fail or fall
                // back, and the round's record carries this reason with theirs.
                outcome.rootUpdateFailure = "the root update could not be computed: \(error)"
                logger.error("round \(round): \(outcome.rootUpdateFailure!)")
            }
        }
        if let detection {
            // Detectors read per-client updates: the one place a round's deltas are copied out of the block.
            let valid = listed ?? collected.updates
            listed = nil
            // With the training audit, the sample detectors see the verified opened batches
            // (proven to be what the update was trained on), not samples the client chose.
            let revealed =
                trainingAudit == nil
                ? Dictionary(uniqueKeysWithValues: valid.compactMap { update in update.auditSamples.map { (update.client, $0) } })
                : audits.compactMapValues(\.samples)
            var detectionContext = DetectionContext(
                round: round, roundSeed: plan.roundSeed(round), globalModel: input.globalModel, rootSet: rootSet,
                referenceUpdate: context.referenceUpdate,
                sketches: Dictionary(uniqueKeysWithValues: valid.compactMap { update in update.sketch.map { (update.client, $0) } }),
                revealedSamples: revealed, referenceSynthetic: auditReference?.samples, referenceFittedOn: auditReference?.fittedOn,
                memory: state.detectionMemory)
            detectionContext.trainingAudits = audits
            var generator = SeededGenerator(seed: config.seed, stream: [RoundPlan.Stream.detection.rawValue, UInt64(round)])
            do {
                let report = try detection.pipeline.run(valid, context: detectionContext, using: &generator)
                state.detectionMemory = report.memory
                outcome.detection = report
                var kept = [Int]()
                for row in 0..<collected.count {
                    let factor = report.decisions[collected.clients[row]]?.weight ?? 1
                    guard factor > 0 else { continue }
                    if factor != 1 {
                        do throws(AggregationError) {
                            try collected.setWeight(collected.matrix.weights[row] * factor, row: row)
                        } catch {
                            outcome.degradedReason = "\(defense.name) failed: \(error); the model is unchanged"
                            logger.error("round \(round): \(outcome.degradedReason!)")
                            return outcome
                        }
                    }
                    kept.append(row)
                }
                collected.keep(rows: kept)
                for client in report.flagged.sorted() {
                    let decision = report.decisions[client]
                    logger.info(
                        "round \(round): \(client) flagged (score \(decision.map { String(format: "%.3f", $0.score) } ?? "?")): \(decision?.reasons.joined(separator: "; ") ?? "")")
                }
            } catch {
                outcome.detectionFailure = "detection failed, every valid update was kept: \(error)"
                logger.error("round \(round): \(outcome.detectionFailure!)")
            }
        }
        listed = nil
        outcome.screened = collected.clients
        guard collected.count > 0 else {
            outcome.degradedReason = "detection excluded every update; the model is unchanged"
            logger.warning("round \(round): \(outcome.degradedReason!)")
            return outcome
        }

        // 5. Aggregate.
        var generator = plan.aggregationGenerator(round: round)
        let merged = defense.aggregate(collected.matrix, context: context, using: &generator, logger: logger)
        outcome.ruleUsed = merged.ruleUsed
        outcome.degradedReason = merged.degradedReason
        let failures = [outcome.rootUpdateFailure, outcome.detectionFailure].compactMap { $0 }
        if !failures.isEmpty {
            outcome.degradedReason = (failures + [merged.degradedReason].compactMap { $0 }).joined(separator: "; ")
        }
        if let result = merged.result {
            outcome.step = result.aggregate
            outcome.weights = result.weights
            outcome.note = result.note
            if let memory = result.memory { state.aggregatorMemory = memory }
            state.previousAggregate = result.aggregate
        }
        return outcome
    }

    /// Why an update's content cannot be merged, or `nil` when it can.
    static func problem(with update: ClientUpdate, parameterCount: Int) -> String? {
        problem(
            client: update.client, count: update.delta.count, sampleCount: update.sampleCount,
            firstNonFinite: update.delta.count == parameterCount ? update.delta.values.firstIndex(where: { !$0.isFinite }) : nil,
            value: { update.delta.values[$0] }, weight: update.weight, parameterCount: parameterCount)
    }

    /// The same checks on the parts of an update (a row of a ``RoundUpdates`` block).
    static func problem(
        client: ClientID, count: Int, sampleCount: Int, firstNonFinite: Int?, value: ((Int) -> Float)? = nil, weight: Double,
        parameterCount: Int
    ) -> String? {
        if count != parameterCount {
            return "the update has \(count) values, the model \(parameterCount)"
        }
        if sampleCount < 1 || sampleCount > 100_000_000 {
            return "it claims \(sampleCount) samples (1...100,000,000 allowed)"
        }
        if let index = firstNonFinite {
            return "value \(index) of the update is \(value.map { String(describing: $0(index)) } ?? "not finite") (updates must be finite)"
        }
        if !(weight >= 0 && weight <= 1) {
            return "weight \(weight) outside [0, 1]"
        }
        return nil
    }
}

/// What the coordinator collected in one round: per-client updates, or (what the coordinator
/// itself hands over) one block of them, ``RoundUpdates``. Both give the same outcome bits.
public struct RoundInput: Sendable {
    /// The 1-based round.
    public var round: Int
    /// The clients asked to train.
    public var selected: [ClientID]
    /// The updates that passed the message checks (sender, round, duplicates), in any order;
    /// empty when ``collected`` holds them.
    public var updates: [ClientUpdate]
    /// The updates as one block, when the coordinator collected them so.
    public var collected: RoundUpdates?
    /// The global model `w_t` the clients started from.
    public var globalModel: ParameterVector
    /// The steps each client opened in answer to its CHALLENGE (`training-audit`); a client
    /// missing here sent no OPENING before the deadline.
    public var openings: [ClientID: [StepOpening]]

    /// Creates an input.
    public init(round: Int, selected: [ClientID], updates: [ClientUpdate], globalModel: ParameterVector, openings: [ClientID: [StepOpening]] = [:]) {
        self.round = round
        self.selected = selected
        self.updates = updates
        self.globalModel = globalModel
        self.openings = openings
    }

    /// Creates an input from a block of updates.
    public init(
        round: Int, selected: [ClientID], collected: RoundUpdates, globalModel: ParameterVector, openings: [ClientID: [StepOpening]] = [:]
    ) {
        self.round = round
        self.selected = selected
        self.updates = []
        self.collected = collected
        self.globalModel = globalModel
        self.openings = openings
    }
}

/// The round pipeline's memory across rounds: what a checkpoint saves.
public struct PipelineState: Sendable, Equatable {
    /// A stateful rule's memory (FoolsGold's history).
    public var aggregatorMemory = AggregatorMemory()
    /// The detectors' and the fusion's memory (smoothed scores, calibration).
    public var detectionMemory = AggregatorMemory()
    /// The last applied aggregate (centered clipping starts from it).
    public var previousAggregate: ParameterVector?

    /// The empty state of round 1.
    public init() {}
}

/// Every stage's result for one round.
public struct RoundOutcome: Sendable {
    /// An update refused by content validation.
    public struct Rejection: Sendable, Equatable {
        /// The client.
        public var client: ClientID
        /// Why.
        public var reason: String
    }

    /// Updates refused by content validation.
    public var rejections: [Rejection] = []
    /// Clients whose updates passed validation, ascending.
    public var validated: [ClientID] = []
    /// Valid updates whose reported training loss was not finite (merged like any other: the
    /// loss is a diagnostic).
    public var nonFiniteTrainLosses = 0
    /// The detectors' report, when detectors ran.
    public var detection: DetectionReport?
    /// The training audit's verdicts, by client (empty without `training-audit`).
    public var trainingAudits: [ClientID: TrainingAuditVerdict] = [:]
    /// Seconds the coordinator spent verifying openings.
    public var trainingAuditSeconds = 0.0
    /// Why detection could not run this round, if it failed.
    public var detectionFailure: String?
    /// Why the coordinator's root update (FLTrust's reference, root-audit's yardstick) could not
    /// be computed this round, if so.
    public var rootUpdateFailure: String?
    /// Clients whose updates reached the aggregation rule (after detection), ascending.
    public var screened: [ClientID] = []
    /// The merged step `Δ`, or `nil` when the round leaves the model unchanged.
    public var step: ParameterVector?
    /// The rule's per-client weights.
    public var weights: [ClientID: Double] = [:]
    /// The rule that actually ran (`median` when the degraded policy fell back).
    public var ruleUsed: String
    /// The rule's note.
    public var note: String?
    /// Why the round was not applied or ran a fallback, if so.
    public var degradedReason: String?

    init(ruleUsed: String) { self.ruleUsed = ruleUsed }
}
