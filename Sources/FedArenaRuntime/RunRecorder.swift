import Crypto
import FedArenaCore
import FedArenaDefenses
import FedArenaData
import FedArenaReports
import Foundation

/// Writes a run's folder: `metrics.jsonl` as rounds complete, then `summary.json` and
/// `model-final.npy` at the end.
///
/// The file names and `summary.json` keys are a contract other tools rely on (see DESIGN.md):
/// keys are added, never renamed, and values that are not defined for a run are `null`.
public final class RunRecorder: @unchecked Sendable {
    /// The run folder.
    public let directory: String
    private let metrics: JSONLinesFile
    private let ledger: Ledger
    private let lock = NSLock()

    /// Creates the folder (and `logs/`) and opens `metrics.jsonl`.
    /// - Throws: ``RuntimeError`` `.output` naming the folder.
    public init(directory: String) throws(RuntimeError) {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory + "/logs", withIntermediateDirectories: true)
            metrics = try JSONLinesFile(path: directory + "/metrics.jsonl")
        } catch {
            throw RuntimeError(.output, "cannot create the run folder \(directory): \(error)")
        }
        ledger = try Ledger(path: directory + "/ledger.jsonl")
    }

    /// The path of a file in the run folder.
    public func path(_ name: String) -> String { directory + "/" + name }

    /// Appends one round to `metrics.jsonl`.
    public func record(_ round: RoundRecord) throws(RuntimeError) {
        lock.lock()
        defer { lock.unlock() }
        do {
            try metrics.append(Self.metricsLine(round))
        } catch {
            throw RuntimeError(.output, "\(error)")
        }
        try ledger.append(Self.ledgerEntry(round))
    }

    /// The `detection` object of a metrics line: scores, decisions with reasons, and rates.
    static func detectionLine(_ detection: DetectionRoundRecord) -> ConfigValue {
        let report = detection.report
        var scores = [String: ConfigValue]()
        var decisions = [ConfigValue]()
        for client in report.decisions.keys.sorted() {
            let decision = report.decisions[client]!
            scores[String(client.rawValue)] = JSONText.number(decision.score)
            guard decision.flagged || decision.action != .accept else { continue }
            let action: String
            switch decision.action {
            case .accept: action = "accept"
            case .exclude: action = "exclude"
            case .downweight(let factor): action = String(format: "downweight %.3f", factor)
            }
            decisions.append(.object([
                "client": .int(client.rawValue), "score": JSONText.number(decision.score), "action": .string(action),
                "reasons": .array(decision.reasons.map(ConfigValue.string)),
            ]))
        }
        let metrics = detection.metrics
        return .object([
            "scores": .object(scores),
            "flagged": .array(report.flagged.sorted().map { .int($0.rawValue) }),
            "decisions": .array(decisions),
            "threshold": JSONText.number(report.threshold),
            "calibrating": .bool(report.calibrating),
            "tp": .int(metrics.truePositives), "fp": .int(metrics.falsePositives),
            "tn": .int(metrics.trueNegatives), "fn": .int(metrics.falseNegatives),
            "auc": metrics.auc.map(JSONText.number) ?? .null,
        ])
    }

    /// One `ledger.jsonl` entry: the round's decisions and the resulting model's hash.
    public static func ledgerEntry(_ round: RoundRecord) -> [String: ConfigValue] {
        guard case .object(let line) = metricsLine(round) else { return [:] }
        var entry = [String: ConfigValue]()
        for key in ["round", "selected", "accepted", "dropped", "rejected", "applied", "degraded", "aggregator", "aggregator_note", "weights", "detection"] {
            entry[key] = line[key] ?? .null
        }
        entry["model_sha256"] = .string(round.modelSHA256)
        return entry
    }

    /// One `metrics.jsonl` line.
    public static func metricsLine(_ round: RoundRecord) -> ConfigValue {
        func ids(_ clients: [ClientID]) -> ConfigValue { .array(clients.map { .int($0.rawValue) }) }
        var weights = [String: ConfigValue]()
        for (client, weight) in round.weights { weights[String(client.rawValue)] = JSONText.number(weight) }
        return .object([
            "round": .int(round.round),
            "accuracy": JSONText.number(round.accuracy),
            "loss": JSONText.number(round.loss),
            "per_class_accuracy": .array(round.perClassAccuracy.map(JSONText.number)),
            "selected": ids(round.selected),
            "accepted": ids(round.accepted),
            "dropped": ids(round.dropped),
            "rejected": .array(round.rejections.map { rejection in
                .object([
                    "client": rejection.client.map { .int($0.rawValue) } ?? .null,
                    "peer": .string(rejection.peer), "reason": .string(rejection.reason),
                ])
            }),
            "late_updates": .int(round.lateUpdates),
            "applied": .bool(round.applied),
            "degraded": round.degradedReason.map(ConfigValue.string) ?? .null,
            "aggregator": .string(round.aggregator),
            "aggregator_note": round.aggregatorNote.map(ConfigValue.string) ?? .null,
            "weights": .object(weights),
            "mean_train_loss": JSONText.number(round.meanTrainLoss),
            "step_norm": JSONText.number(round.stepNorm),
            "seconds": JSONText.number(round.seconds),
            "wait_seconds": JSONText.number(round.waitSeconds),
            "aggregate_seconds": JSONText.number(round.aggregateSeconds),
            "asr": round.attackSuccessRate.map(JSONText.number) ?? .null,
            "malicious_accepted": round.maliciousAccepted.map(ConfigValue.int) ?? .null,
            "malicious_weight": round.maliciousWeight.map(JSONText.number) ?? .null,
            "detection": round.detection.map(detectionLine) ?? .null,
        ])
    }

    /// Adds the attack-free run's final accuracy and the drop to `summary.json`'s attack block.
    /// - Returns: the updated summary, also written to `folder/summary.json`.
    /// - Throws: ``RuntimeError`` `.output` when the file cannot be written.
    public static func addBaseline(
        _ accuracy: Double, successRate: Double?, to summary: ConfigValue, in folder: String
    ) throws(RuntimeError) -> ConfigValue {
        guard case .object(var object) = summary, case .object(var attack)? = object["attack"] else { return summary }
        attack["baseline_final_accuracy"] = JSONText.number(accuracy)
        attack["baseline_final_asr"] = successRate.map(JSONText.number) ?? .null
        if case .double(let final)? = object["final_accuracy"] { attack["accuracy_drop"] = JSONText.number(accuracy - final) }
        object["attack"] = .object(attack)
        do {
            try JSONText.write(.object(object), to: folder + "/summary.json")
        } catch {
            throw RuntimeError(.output, "\(error)")
        }
        return .object(object)
    }

    /// The `detection` block of `summary.json`, or `null` without detectors.
    static func detectionSummary(_ result: RunResult, config: ScenarioConfig) -> ConfigValue {
        guard let summary = result.detection else { return .null }
        var block = [String: ConfigValue]()
        block["detectors"] = .array(config.defense.detection.map(\.asValue))
        block["policy"] = .object(config.defense.detectionPolicy)
        block["tpr"] = summary.tpr.map(JSONText.number) ?? .null
        block["fpr"] = summary.fpr.map(JSONText.number) ?? .null
        block["precision"] = summary.precision.map(JSONText.number) ?? .null
        block["auc"] = summary.auc.map(JSONText.number) ?? .null
        block["flagged_by_round"] = .array(summary.flaggedByRound.map(ConfigValue.int))
        var firsts = [String: ConfigValue]()
        for (client, round) in summary.roundsToFirstDetection { firsts[String(client.rawValue)] = round.map(ConfigValue.int) ?? .null }
        block["rounds_to_detection"] = .object(firsts)
        return .object(block)
    }

    /// The `attack` block of `summary.json`, or `null` without an attack.
    static func attackSummary(_ result: RunResult, config: ScenarioConfig) -> ConfigValue {
        guard let spec = config.attack else { return .null }
        let rates = result.rounds.map { $0.attackSuccessRate.map(JSONText.number) ?? .null }
        var block = [String: ConfigValue]()
        block["kind"] = .string(spec.kind)
        block["spec"] = spec.asValue
        block["malicious_clients"] = .array(result.maliciousClients.map { .int($0.rawValue) })
        block["knowledge"] = spec.options["knowledge"] ?? .null
        block["final_asr"] = rates.last ?? .null
        block["asr_by_round"] = .array(rates)
        block["malicious_accepted_by_round"] = .array(result.rounds.map { $0.maliciousAccepted.map(ConfigValue.int) ?? .null })
        block["baseline_final_accuracy"] = .null
        block["baseline_final_asr"] = .null
        block["accuracy_drop"] = .null
        return .object(block)
    }

    /// Writes a round's accepted updates as `updates/round-NNNN.npy` (n x d, one update per
    /// row, ascending client IDs), `round-NNNN-clients.npy` (the client IDs) and
    /// `round-NNNN-weights.npy` (sample counts), for replaying defenses offline with
    /// `fedarena aggregate --in ... --weights ...`.
    public func recordUpdates(round: Int, _ updates: [ClientUpdate]) throws(RuntimeError) {
        guard let dimension = updates.first?.delta.count else { return }
        let folder = path("updates")
        let stem = folder + "/" + String(format: "round-%04d", round)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var matrix = [Float]()
            matrix.reserveCapacity(updates.count * dimension)
            for update in updates { matrix.append(contentsOf: update.delta.values) }
            try NPYFile.write(matrix, shape: [updates.count, dimension], to: stem + ".npy")
            try NPYFile.write(updates.map { Float($0.client.rawValue) }, shape: [updates.count], to: stem + "-clients.npy")
            try NPYFile.write(updates.map { Float($0.sampleCount) }, shape: [updates.count], to: stem + "-weights.npy")
        } catch {
            throw RuntimeError(.output, "cannot record round \(round)'s updates in \(folder): \(error)")
        }
    }

    /// The SHA-256 (hex) of the parameters' little-endian float32 bytes.
    public static func sha256(_ parameters: ParameterVector) -> String {
        SHA256.hash(data: parameters.littleEndianBytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Writes `model-final.npy` and `summary.json`.
    /// - Parameters:
    ///   - result: the coordinator's result.
    ///   - config: the scenario.
    ///   - wallSeconds: the run's wall time (process start excluded).
    /// - Returns: the summary written.
    /// - Throws: ``RuntimeError`` `.output` naming the file.
    @discardableResult
    public func finish(_ result: RunResult, config: ScenarioConfig, wallSeconds: Double) throws(RuntimeError) -> ConfigValue {
        do {
            try NPYFile.write(result.finalModel.values, shape: [result.finalModel.count], to: path("model-final.npy"))
        } catch {
            throw RuntimeError(.output, "cannot write model-final.npy: \(error)")
        }
        let summary = Self.summary(result, config: config, wallSeconds: wallSeconds)
        do {
            try JSONText.write(summary, to: path("summary.json"))
        } catch {
            throw RuntimeError(.output, "\(error)")
        }
        return summary
    }

    /// The `summary.json` document.
    public static func summary(_ result: RunResult, config: ScenarioConfig, wallSeconds: Double) -> ConfigValue {
        let rounds = result.rounds
        let seconds = rounds.map(\.seconds).sorted()
        let median = seconds.isEmpty ? Double.nan : (seconds[(seconds.count - 1) / 2] + seconds[seconds.count / 2]) / 2
        let last = rounds.last
        var summary = [String: ConfigValue]()
        summary["scenario"] = .string(config.name)
        summary["seed"] = .int(Int(config.seed))
        summary["rounds_completed"] = .int(rounds.count)
        summary["rounds_applied"] = .int(rounds.filter(\.applied).count)
        summary["final_accuracy"] = last.map { JSONText.number($0.accuracy) } ?? .null
        summary["final_loss"] = last.map { JSONText.number($0.loss) } ?? .null
        summary["accuracy_by_round"] = .array(rounds.map { JSONText.number($0.accuracy) })
        summary["loss_by_round"] = .array(rounds.map { JSONText.number($0.loss) })
        summary["final_per_class_accuracy"] = last.map { .array($0.perClassAccuracy.map(JSONText.number)) } ?? .null
        summary["model_sha256"] = .string(sha256(result.finalModel))
        summary["parameter_count"] = .int(result.finalModel.count)
        summary["wall_seconds"] = JSONText.number(wallSeconds)
        summary["seconds_per_round_median"] = JSONText.number(median)
        summary["dropouts"] = .int(result.dropouts)
        summary["dropped_clients"] = .array(result.droppedClients.map { .int($0.rawValue) })
        summary["rejected_messages"] = .int(result.rejectedMessages)
        summary["degraded_rounds"] = .array(rounds.filter { $0.degradedReason != nil }.map { .int($0.round) })
        summary["clients"] = .int(config.clients.count)
        summary["client_processes"] = .int(config.clients.processes)
        summary["connected_processes"] = .int(result.connectedProcesses)
        summary["aggregator"] = config.defense.aggregator.asValue
        summary["attack"] = attackSummary(result, config: config)
        summary["detection"] = detectionSummary(result, config: config)
        return .object(summary)
    }
}
