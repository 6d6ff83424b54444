import FedArenaCore
import Foundation

/// The typed records of a run folder: one ``RoundMetrics`` per line of `metrics.jsonl`, the
/// ``RunSummary`` in `summary.json`, and one ``LedgerEntry`` per line of `ledger.jsonl`.
///
/// Key names are a contract (DESIGN.md): keys are added, never renamed, and a value that is
/// not defined for a run is `null`, never left out (``Nullable``). Every writer and reader of
/// these files (the coordinator, `fedarena sweep`, `fedarena report`) goes through these types.
public enum RunRecords {
    /// The encoder of every record: sorted keys (stable bytes for the ledger's hash chain and
    /// for diffs), no escaped slashes.
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// One line of JSON (no newline).
    /// - Throws: ``ReportError`` when the value cannot be encoded.
    public static func line(_ value: some Encodable) throws(ReportError) -> String {
        do {
            return String(decoding: try encoder().encode(value), as: UTF8.self)
        } catch {
            throw ReportError("cannot encode a record as JSON: \(error)")
        }
    }

    /// Decodes `summary.json` of a run folder.
    /// - Throws: ``ReportError`` naming the file.
    public static func readSummary(in folder: String) throws(ReportError) -> RunSummary {
        let path = folder + "/summary.json"
        do {
            return try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ReportError("cannot read \(path): \(error)")
        }
    }

    /// Decodes every line of `metrics.jsonl` of a run folder.
    /// - Throws: ``ReportError`` naming the file and line.
    public static func readMetrics(in folder: String) throws(ReportError) -> [RoundMetrics] {
        let path = folder + "/metrics.jsonl"
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ReportError("cannot read \(path): \(error)")
        }
        var rounds = [RoundMetrics]()
        let decoder = JSONDecoder()
        for (index, line) in text.split(separator: "\n").enumerated() where !line.isEmpty {
            do {
                rounds.append(try decoder.decode(RoundMetrics.self, from: Data(line.utf8)))
            } catch {
                throw ReportError("\(path) line \(index + 1): \(error)")
            }
        }
        return rounds
    }
}

/// A refused message or update, as recorded.
public struct RejectionRecord: Codable, Sendable, Equatable {
    /// The client the message claimed to come from, if it could be decoded.
    @Nullable public var client: Int?
    /// The sending peer (`process 3` or a routing identity).
    public var peer: String
    /// Why it was refused.
    public var reason: String

    /// Creates a record.
    public init(client: Int?, peer: String, reason: String) {
        self.client = client
        self.peer = peer
        self.reason = reason
    }
}

/// One client's detection decision with its reasons.
public struct DetectionDecisionRecord: Codable, Sendable, Equatable {
    /// The client.
    public var client: Int
    /// Its fused suspicion score.
    @Nullable public var score: Double?
    /// `accept`, `exclude` or `downweight 0.500`.
    public var action: String
    /// The aggregation weight factor the decision gave (1 accept, 0 exclude, the factor otherwise).
    public var weight: Double
    /// Why, one reason per detector that contributed.
    public var reasons: [String]

    /// Creates a record.
    public init(client: Int, score: Double?, action: String, weight: Double, reasons: [String]) {
        self.client = client
        self.score = finiteOrNil(score)
        self.action = action
        self.weight = weight
        self.reasons = reasons
    }
}

/// The detection part of a round's metrics.
public struct DetectionRoundMetrics: Codable, Sendable, Equatable {
    /// Every client's fused score, keyed by client ID.
    public var scores: [String: Double?]
    /// The clients flagged (excluded or down-weighted), ascending.
    public var flagged: [Int]
    /// The decisions that were not a plain accept, with reasons.
    public var decisions: [DetectionDecisionRecord]
    /// The threshold in force.
    @Nullable public var threshold: Double?
    /// Whether the threshold was still provisional.
    public var calibrating: Bool
    /// Flagged clients that attacked this round.
    public var tp: Int
    /// Flagged honest clients.
    public var fp: Int
    /// Accepted honest clients.
    public var tn: Int
    /// Accepted clients that attacked this round.
    public var fn: Int
    /// Malicious clients present but idle this round (their schedule inactive): not counted
    /// in TP/FP/TN/FN.
    public var idleMalicious: [Int]
    /// The ROC AUC of the round's scores (attacking vs honest), `null` without both kinds.
    @Nullable public var auc: Double?
    /// Each detector's own score of every client before fusion, by detector name then client
    /// ID (`detector_scores`; absent in records written before it existed). With these a
    /// threshold can be calibrated per detector and a miss traced to the detector that missed.
    public var detectorScores: [String: [String: Double?]]?

    /// Creates a record.
    public init(
        scores: [String: Double?], flagged: [Int], decisions: [DetectionDecisionRecord], threshold: Double?, calibrating: Bool,
        tp: Int, fp: Int, tn: Int, fn: Int, idleMalicious: [Int], auc: Double?, detectorScores: [String: [String: Double?]]? = nil
    ) {
        self.detectorScores = detectorScores
        self.scores = scores
        self.flagged = flagged
        self.decisions = decisions
        self.threshold = finiteOrNil(threshold)
        self.calibrating = calibrating
        self.tp = tp
        self.fp = fp
        self.tn = tn
        self.fn = fn
        self.idleMalicious = idleMalicious
        self.auc = finiteOrNil(auc)
    }

    enum CodingKeys: String, CodingKey {
        case scores, flagged, decisions, threshold, calibrating, tp, fp, tn, fn, auc
        case idleMalicious = "idle_malicious"
        case detectorScores = "detector_scores"
    }
}

/// One line of `metrics.jsonl`: what the coordinator decided and measured in one round.
public struct RoundMetrics: Codable, Sendable, Equatable {
    /// The 1-based round.
    public var round: Int
    /// Test accuracy after the round.
    @Nullable public var accuracy: Double?
    /// Test loss after the round.
    @Nullable public var loss: Double?
    /// Test accuracy per class (`null` for a class absent from the test set).
    public var perClassAccuracy: [Double?]
    /// Clients asked to train.
    public var selected: [Int]
    /// Clients whose updates passed validation, ascending.
    public var accepted: [Int]
    /// Selected clients whose update never arrived in time.
    public var dropped: [Int]
    /// The first refused messages of the round with reasons (at most
    /// ``RoundMetrics/keptRejections``; `rejected_count` and `rejected_by_reason` count all).
    public var rejected: [RejectionRecord]
    /// All refused messages of the round.
    public var rejectedCount: Int
    /// Refused messages per reason class (`undecodable`, `duplicate`, ...).
    public var rejectedByReason: [String: Int]
    /// Updates that arrived after their round closed.
    public var lateUpdates: Int
    /// Whether the aggregate was applied to the global model.
    public var applied: Bool
    /// Why the round was not applied or ran a fallback rule.
    @Nullable public var degraded: String?
    /// The aggregation rule that actually ran.
    public var aggregator: String
    /// The rule's note, if any.
    @Nullable public var aggregatorNote: String?
    /// Per-client aggregation weights, keyed by client ID.
    public var weights: [String: Double]
    /// Mean of the accepted clients' reported training losses (`null` when none reported one).
    @Nullable public var meanTrainLoss: Double?
    /// Accepted updates whose reported training loss was not finite (the loss is a diagnostic:
    /// such updates are merged like any other).
    public var nonFiniteTrainLosses: Int
    /// Norm of the applied global step `η_g ‖Δ‖`.
    public var stepNorm: Double
    /// Wall seconds from sending TRAIN to the evaluated model.
    public var seconds: Double
    /// Seconds spent waiting for updates.
    public var waitSeconds: Double
    /// Seconds spent in the round pipeline (validate, detect, decide, aggregate).
    public var aggregateSeconds: Double
    /// Attack success rate after the round, `null` for untargeted attacks or no attack.
    @Nullable public var asr: Double?
    /// Malicious clients that attacked this round (ground truth, for measurement only).
    @Nullable public var attacking: [Int]?
    /// Malicious updates that reached the aggregation rule (after detection), `null` without an attack.
    @Nullable public var maliciousAccepted: Int?
    /// The aggregation weight malicious clients received, `null` without an attack.
    @Nullable public var maliciousWeight: Double?
    /// The SHA-256 of the global model after the round.
    public var modelSHA256: String
    /// The detectors' decisions and the round's detection rates, `null` without detectors.
    @Nullable public var detection: DetectionRoundMetrics?
    /// Bytes of the round's accepted UPDATE messages as they travelled (16-byte header
    /// included; smaller with `transport.compression`), `null` in records made before this key.
    @Nullable public var updateBytes: Int? = nil
    /// What the training audit cost and found this round, `null` without `training-audit`.
    @Nullable public var trainingAudit: TrainingAuditRoundMetrics? = nil

    /// At most this many rejections are kept per round with their reasons.
    public static let keptRejections = 20

    /// Creates a record.
    public init(
        round: Int, accuracy: Double?, loss: Double?, perClassAccuracy: [Double?], selected: [Int], accepted: [Int], dropped: [Int],
        rejected: [RejectionRecord], rejectedCount: Int, rejectedByReason: [String: Int], lateUpdates: Int, applied: Bool,
        degraded: String?, aggregator: String, aggregatorNote: String?, weights: [String: Double], meanTrainLoss: Double?,
        nonFiniteTrainLosses: Int, stepNorm: Double, seconds: Double, waitSeconds: Double, aggregateSeconds: Double, asr: Double?,
        attacking: [Int]?, maliciousAccepted: Int?, maliciousWeight: Double?, modelSHA256: String, detection: DetectionRoundMetrics?
    ) {
        self.round = round
        self.accuracy = finiteOrNil(accuracy)
        self.loss = finiteOrNil(loss)
        self.perClassAccuracy = perClassAccuracy.map(finiteOrNil)
        self.selected = selected
        self.accepted = accepted
        self.dropped = dropped
        self.rejected = rejected
        self.rejectedCount = rejectedCount
        self.rejectedByReason = rejectedByReason
        self.lateUpdates = lateUpdates
        self.applied = applied
        self.degraded = degraded
        self.aggregator = aggregator
        self.aggregatorNote = aggregatorNote
        self.weights = weights
        self.meanTrainLoss = finiteOrNil(meanTrainLoss)
        self.nonFiniteTrainLosses = nonFiniteTrainLosses
        self.stepNorm = stepNorm.isFinite ? stepNorm : 0
        self.seconds = seconds
        self.waitSeconds = waitSeconds
        self.aggregateSeconds = aggregateSeconds
        self.asr = finiteOrNil(asr)
        self.attacking = attacking
        self.maliciousAccepted = maliciousAccepted
        self.maliciousWeight = finiteOrNil(maliciousWeight)
        self.modelSHA256 = modelSHA256
        self.detection = detection
    }

    enum CodingKeys: String, CodingKey {
        case round, accuracy, loss, selected, accepted, dropped, rejected, applied, degraded, aggregator, weights, seconds, asr
        case attacking, detection
        case perClassAccuracy = "per_class_accuracy"
        case rejectedCount = "rejected_count"
        case rejectedByReason = "rejected_by_reason"
        case lateUpdates = "late_updates"
        case aggregatorNote = "aggregator_note"
        case meanTrainLoss = "mean_train_loss"
        case nonFiniteTrainLosses = "non_finite_train_losses"
        case stepNorm = "step_norm"
        case waitSeconds = "wait_seconds"
        case aggregateSeconds = "aggregate_seconds"
        case maliciousAccepted = "malicious_accepted"
        case maliciousWeight = "malicious_weight"
        case modelSHA256 = "model_sha256"
        case updateBytes = "update_bytes"
        case trainingAudit = "training_audit"
    }
}

/// The `training_audit` object of a metrics line: the audit's bytes, coordinator time and verdicts.
public struct TrainingAuditRoundMetrics: Codable, Sendable, Equatable {
    /// Bytes the audit added on the wire: the commitments inside the UPDATEs, the CHALLENGEs and the OPENINGs.
    public var bytes: Int
    /// Coordinator seconds spent verifying openings (recomputing steps, hashing, proofs).
    public var verifySeconds: Double
    /// Clients audited (updates that reached the pipeline).
    public var audited: Int
    /// Steps opened over all clients.
    public var openedSteps: Int
    /// Clients whose audit failed, by reason (`wrong batch`, `no opening`, ...).
    public var failures: [String: Int]
    /// The failing clients with their reasons (client → message).
    public var failed: [String: String]

    /// Creates a record.
    public init(bytes: Int, verifySeconds: Double, audited: Int, openedSteps: Int, failures: [String: Int], failed: [String: String]) {
        self.bytes = bytes
        self.verifySeconds = verifySeconds
        self.audited = audited
        self.openedSteps = openedSteps
        self.failures = failures
        self.failed = failed
    }

    enum CodingKeys: String, CodingKey {
        case bytes, audited, failures, failed
        case verifySeconds = "verify_seconds"
        case openedSteps = "opened_steps"
    }
}

/// One line of `ledger.jsonl` before its chain fields: the round's decisions and the hash of
/// the model they produced. ``Ledger`` adds `previous` and `hash`.
public struct LedgerEntry: Codable, Sendable, Equatable {
    /// The round.
    public var round: Int
    /// Clients asked to train.
    public var selected: [Int]
    /// Clients whose updates passed validation.
    public var accepted: [Int]
    /// Clients that did not answer in time.
    public var dropped: [Int]
    /// The first refused messages with reasons.
    public var rejected: [RejectionRecord]
    /// All refused messages of the round.
    public var rejectedCount: Int
    /// Whether the aggregate was applied.
    public var applied: Bool
    /// Why the round was degraded, if it was.
    @Nullable public var degraded: String?
    /// The rule that ran.
    public var aggregator: String
    /// The rule's note.
    @Nullable public var aggregatorNote: String?
    /// Per-client weights.
    public var weights: [String: Double]
    /// Detection decisions, `null` without detectors.
    @Nullable public var detection: DetectionRoundMetrics?
    /// The SHA-256 of the model after the round.
    public var modelSHA256: String

    /// The ledger entry of a round's metrics.
    public init(_ metrics: RoundMetrics) {
        round = metrics.round
        selected = metrics.selected
        accepted = metrics.accepted
        dropped = metrics.dropped
        rejected = metrics.rejected
        rejectedCount = metrics.rejectedCount
        applied = metrics.applied
        degraded = metrics.degraded
        aggregator = metrics.aggregator
        aggregatorNote = metrics.aggregatorNote
        weights = metrics.weights
        detection = metrics.detection
        modelSHA256 = metrics.modelSHA256
    }

    enum CodingKeys: String, CodingKey {
        case round, selected, accepted, dropped, rejected, applied, degraded, aggregator, weights, detection
        case rejectedCount = "rejected_count"
        case aggregatorNote = "aggregator_note"
        case modelSHA256 = "model_sha256"
    }
}

/// The `attack` block of `summary.json`.
public struct AttackSummary: Codable, Sendable, Equatable {
    /// The attack's YAML kind.
    public var kind: String
    /// The attack spec as resolved.
    public var spec: ConfigValue
    /// The malicious clients (ground truth), ascending.
    public var maliciousClients: [Int]
    /// The attacker's knowledge (`none`, `malicious`, `omniscient`), `null` when not set.
    @Nullable public var knowledge: ConfigValue?
    /// ASR after the last round.
    @Nullable public var finalASR: Double?
    /// ASR after every round.
    public var asrByRound: [Double?]
    /// Malicious updates that reached aggregation, per round.
    public var maliciousAcceptedByRound: [Int?]
    /// Final accuracy of the same scenario with the attack off (same seed), when run.
    @Nullable public var baselineFinalAccuracy: Double?
    /// ASR of the attack-free model, when run.
    @Nullable public var baselineFinalASR: Double?
    /// `baseline_final_accuracy − final_accuracy`, when the baseline ran.
    @Nullable public var accuracyDrop: Double?

    /// Creates a block.
    public init(
        kind: String, spec: ConfigValue, maliciousClients: [Int], knowledge: ConfigValue?, finalASR: Double?, asrByRound: [Double?],
        maliciousAcceptedByRound: [Int?]
    ) {
        self.kind = kind
        self.spec = spec
        self.maliciousClients = maliciousClients
        self.knowledge = knowledge
        self.finalASR = finiteOrNil(finalASR)
        self.asrByRound = asrByRound.map(finiteOrNil)
        self.maliciousAcceptedByRound = maliciousAcceptedByRound
    }

    enum CodingKeys: String, CodingKey {
        case kind, spec, knowledge
        case maliciousClients = "malicious_clients"
        case finalASR = "final_asr"
        case asrByRound = "asr_by_round"
        case maliciousAcceptedByRound = "malicious_accepted_by_round"
        case baselineFinalAccuracy = "baseline_final_accuracy"
        case baselineFinalASR = "baseline_final_asr"
        case accuracyDrop = "accuracy_drop"
    }
}

/// The `detection` block of `summary.json`.
public struct DetectionSummary: Codable, Sendable, Equatable {
    /// The detector specs.
    public var detectors: [ConfigValue]
    /// The detection policy as given.
    public var policy: [String: ConfigValue]
    /// Pooled `TP / (TP + FN)`.
    @Nullable public var tpr: Double?
    /// Pooled `FP / (FP + TN)`.
    @Nullable public var fpr: Double?
    /// Pooled `TP / (TP + FP)`.
    @Nullable public var precision: Double?
    /// The AUC of all scores of all rounds pooled.
    @Nullable public var auc: Double?
    /// Flagged clients per round.
    public var flaggedByRound: [Int]
    /// Per malicious client, keyed by ID: attacking rounds until its first flag (`null` = never).
    public var roundsToDetection: [String: Int?]
    /// What the rates count.
    public var counted: String

    /// The sentence `counted` holds.
    public static let countedClientRounds =
        "client-rounds in which a malicious client's attack schedule was active (positives) and honest client-rounds (negatives); "
        + "client-rounds of idle malicious clients are not counted"

    /// Creates a block.
    public init(
        detectors: [ConfigValue], policy: [String: ConfigValue], tpr: Double?, fpr: Double?, precision: Double?, auc: Double?,
        flaggedByRound: [Int], roundsToDetection: [String: Int?]
    ) {
        self.detectors = detectors
        self.policy = policy
        self.tpr = finiteOrNil(tpr)
        self.fpr = finiteOrNil(fpr)
        self.precision = finiteOrNil(precision)
        self.auc = finiteOrNil(auc)
        self.flaggedByRound = flaggedByRound
        self.roundsToDetection = roundsToDetection
        self.counted = Self.countedClientRounds
    }

    enum CodingKeys: String, CodingKey {
        case detectors, policy, tpr, fpr, precision, auc, counted
        case flaggedByRound = "flagged_by_round"
        case roundsToDetection = "rounds_to_detection"
    }
}

/// `summary.json`: the run's outcome.
public struct RunSummary: Codable, Sendable, Equatable {
    /// The scenario name.
    public var scenario: String
    /// The scenario seed.
    public var seed: UInt64
    /// `complete`, or `interrupted` (a signal or an error stopped the run before its last round).
    public var status: String
    /// Rounds run.
    public var roundsCompleted: Int
    /// Rounds whose aggregate was applied.
    public var roundsApplied: Int
    /// Test accuracy after the last round.
    @Nullable public var finalAccuracy: Double?
    /// Test loss after the last round.
    @Nullable public var finalLoss: Double?
    /// Test accuracy after every round.
    public var accuracyByRound: [Double?]
    /// Test loss after every round.
    public var lossByRound: [Double?]
    /// Per-class accuracy after the last round.
    @Nullable public var finalPerClassAccuracy: [Double?]?
    /// SHA-256 of the final parameters' little-endian float32 bytes.
    public var modelSHA256: String
    /// `d`.
    public var parameterCount: Int
    /// Wall seconds of the run (process start excluded).
    public var wallSeconds: Double
    /// Median seconds per round.
    @Nullable public var secondsPerRoundMedian: Double?
    /// Expected updates that never arrived, summed over rounds.
    public var dropouts: Int
    /// Clients that missed at least one round.
    public var droppedClients: [Int]
    /// Messages refused over the run.
    public var rejectedMessages: Int
    /// Rounds that were degraded (not applied or a fallback rule ran).
    public var degradedRounds: [Int]
    /// Logical clients.
    public var clients: Int
    /// Client processes of the scenario.
    public var clientProcesses: Int
    /// Client processes that connected.
    public var connectedProcesses: Int
    /// The aggregation spec.
    public var aggregator: ConfigValue
    /// The attack block, `null` without an attack.
    @Nullable public var attack: AttackSummary?
    /// The detection block, `null` without detectors.
    @Nullable public var detection: DetectionSummary?

    /// Creates a summary.
    public init(
        scenario: String, seed: UInt64, status: String, roundsCompleted: Int, roundsApplied: Int, finalAccuracy: Double?,
        finalLoss: Double?, accuracyByRound: [Double?], lossByRound: [Double?], finalPerClassAccuracy: [Double?]?,
        modelSHA256: String, parameterCount: Int, wallSeconds: Double, secondsPerRoundMedian: Double?, dropouts: Int,
        droppedClients: [Int], rejectedMessages: Int, degradedRounds: [Int], clients: Int, clientProcesses: Int,
        connectedProcesses: Int, aggregator: ConfigValue, attack: AttackSummary?, detection: DetectionSummary?
    ) {
        self.scenario = scenario
        self.seed = seed
        self.status = status
        self.roundsCompleted = roundsCompleted
        self.roundsApplied = roundsApplied
        self.finalAccuracy = finiteOrNil(finalAccuracy)
        self.finalLoss = finiteOrNil(finalLoss)
        self.accuracyByRound = accuracyByRound.map(finiteOrNil)
        self.lossByRound = lossByRound.map(finiteOrNil)
        self.finalPerClassAccuracy = finalPerClassAccuracy?.map(finiteOrNil)
        self.modelSHA256 = modelSHA256
        self.parameterCount = parameterCount
        self.wallSeconds = wallSeconds
        self.secondsPerRoundMedian = finiteOrNil(secondsPerRoundMedian)
        self.dropouts = dropouts
        self.droppedClients = droppedClients
        self.rejectedMessages = rejectedMessages
        self.degradedRounds = degradedRounds
        self.clients = clients
        self.clientProcesses = clientProcesses
        self.connectedProcesses = connectedProcesses
        self.aggregator = aggregator
        self.attack = attack
        self.detection = detection
    }

    enum CodingKeys: String, CodingKey {
        case scenario, seed, status, dropouts, clients, aggregator, attack, detection
        case roundsCompleted = "rounds_completed"
        case roundsApplied = "rounds_applied"
        case finalAccuracy = "final_accuracy"
        case finalLoss = "final_loss"
        case accuracyByRound = "accuracy_by_round"
        case lossByRound = "loss_by_round"
        case finalPerClassAccuracy = "final_per_class_accuracy"
        case modelSHA256 = "model_sha256"
        case parameterCount = "parameter_count"
        case wallSeconds = "wall_seconds"
        case secondsPerRoundMedian = "seconds_per_round_median"
        case droppedClients = "dropped_clients"
        case rejectedMessages = "rejected_messages"
        case degradedRounds = "degraded_rounds"
        case clientProcesses = "client_processes"
        case connectedProcesses = "connected_processes"
    }
}
