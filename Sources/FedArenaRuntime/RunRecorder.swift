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

    /// Reopens a run folder to continue after `checkpoint` (a resumed run): `metrics.jsonl`
    /// and `ledger.jsonl` are cut after the checkpoint's round (a round it does not cover is
    /// run again), the ledger chain is verified up to the checkpoint's head.
    /// - Returns: the recorder and the records of the rounds the checkpoint covers.
    /// - Throws: ``RuntimeError`` `.output` naming the file that cannot be resumed.
    public static func resuming(directory: String, after checkpoint: Checkpoint) throws(RuntimeError) -> (RunRecorder, [RoundMetrics]) {
        let metrics: JSONLinesFile
        do {
            metrics = try JSONLinesFile(appendingTo: directory + "/metrics.jsonl", keepingLines: checkpoint.round)
        } catch {
            throw RuntimeError(.output, "cannot resume: \(error)")
        }
        let ledger = try Ledger(resuming: directory + "/ledger.jsonl", keepingEntries: checkpoint.round, head: checkpoint.ledgerHead)
        let earlier: [RoundMetrics]
        do {
            earlier = try RunRecords.readMetrics(in: directory)
        } catch {
            throw RuntimeError(.output, "cannot resume: \(error)")
        }
        return (RunRecorder(directory: directory, metrics: metrics, ledger: ledger), earlier)
    }

    private init(directory: String, metrics: JSONLinesFile, ledger: Ledger) {
        self.directory = directory
        self.metrics = metrics
        self.ledger = ledger
    }

    /// The hash of the ledger's last entry.
    public var ledgerHead: String { ledger.head }

    /// The path of a file in the run folder.
    public func path(_ name: String) -> String { directory + "/" + name }

    /// Appends one round to `metrics.jsonl` and its entry to `ledger.jsonl`.
    /// - Throws: ``RuntimeError`` `.output` naming the file that cannot be written.
    public func record(_ round: RoundMetrics) throws(RuntimeError) {
        lock.lock()
        defer { lock.unlock() }
        do {
            try metrics.append(line: RunRecords.line(round))
        } catch {
            throw RuntimeError(.output, "cannot record round \(round.round) in \(metrics.path): \(error)")
        }
        try ledger.append(LedgerEntry(round))
    }

    /// Adds the attack-free run's final accuracy and the drop to `summary.json`'s attack block.
    /// - Returns: the updated summary, also written to `folder/summary.json`.
    /// - Throws: ``RuntimeError`` `.output` when the file cannot be written.
    public static func addBaseline(
        _ accuracy: Double?, successRate: Double?, to summary: RunSummary, in folder: String
    ) throws(RuntimeError) -> RunSummary {
        guard var attack = summary.attack else { return summary }
        var summary = summary
        attack.baselineFinalAccuracy = finiteOrNil(accuracy)
        attack.baselineFinalASR = finiteOrNil(successRate)
        if let accuracy, let final = summary.finalAccuracy { attack.accuracyDrop = finiteOrNil(accuracy - final) }
        summary.attack = attack
        try write(summary, to: folder + "/summary.json")
        return summary
    }

    /// Writes a summary as pretty JSON (atomically).
    /// - Throws: ``RuntimeError`` `.output` naming the file.
    public static func write(_ summary: RunSummary, to path: String) throws(RuntimeError) {
        do {
            let data = try RunRecords.encoder(pretty: true).encode(summary) + Data("\n".utf8)
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RuntimeError(.output, "cannot write \(path): \(error)")
        }
    }

    /// The `detection` block of `summary.json`, or `nil` without detectors.
    static func detectionSummary(_ result: RunResult, config: ScenarioConfig) -> DetectionSummary? {
        guard let summary = result.detection else { return nil }
        var firsts = [String: Int?]()
        for (client, round) in summary.roundsToFirstDetection { firsts[String(client.rawValue)] = round }
        return DetectionSummary(
            detectors: config.defense.detection.map(\.asValue), policy: config.defense.detectionPolicy, tpr: summary.tpr,
            fpr: summary.fpr, precision: summary.precision, auc: summary.auc, flaggedByRound: summary.flaggedByRound,
            roundsToDetection: firsts)
    }

    /// The `attack` block of `summary.json`, or `nil` without an attack.
    static func attackSummary(_ result: RunResult, config: ScenarioConfig) -> AttackSummary? {
        guard let spec = config.attack else { return nil }
        let rates = result.rounds.map(\.asr)
        return AttackSummary(
            kind: spec.kind, spec: spec.asValue, maliciousClients: result.maliciousClients.map(\.rawValue),
            knowledge: spec.options["knowledge"], finalASR: rates.last ?? nil, asrByRound: rates,
            maliciousAcceptedByRound: result.rounds.map(\.maliciousAccepted))
    }

    /// Writes a round's accepted updates as `updates/round-NNNN.npy` (n x d, one update per
    /// row, ascending client IDs), `round-NNNN-clients.npy` (the client IDs) and
    /// `round-NNNN-weights.npy` (sample counts), for replaying defenses offline with
    /// `fedarena aggregate --in ... --weights ...`.
    public func recordUpdates(round: Int, _ updates: UpdateMatrix) throws(RuntimeError) {
        guard updates.count > 0 else { return }
        let folder = path("updates")
        let stem = folder + "/" + String(format: "round-%04d", round)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try NPYFile.write(updates.values, shape: [updates.count, updates.dimension], to: stem + ".npy")
            try NPYFile.write(updates.clients.map { Float($0.rawValue) }, shape: [updates.count], to: stem + "-clients.npy")
            try NPYFile.write(updates.sampleCounts.map { Float($0) }, shape: [updates.count], to: stem + "-weights.npy")
        } catch {
            throw RuntimeError(.output, "cannot record round \(round)'s updates in \(folder): \(error)")
        }
    }

    /// Writes per-client updates as ``recordUpdates(round:_:)-(_,UpdateMatrix)`` does, in the given order.
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

    /// The SHA-256 (hex) of a text's UTF-8 bytes.
    public static func sha256(text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
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
    public func finish(_ result: RunResult, config: ScenarioConfig, wallSeconds: Double) throws(RuntimeError) -> RunSummary {
        do {
            try NPYFile.write(result.finalModel.values, shape: [result.finalModel.count], to: path("model-final.npy"))
        } catch {
            throw RuntimeError(.output, "cannot write \(path("model-final.npy")): \(error)")
        }
        let summary = Self.summary(result, config: config, wallSeconds: wallSeconds)
        try Self.write(summary, to: path("summary.json"))
        return summary
    }

    /// The `summary.json` document.
    public static func summary(_ result: RunResult, config: ScenarioConfig, wallSeconds: Double, status: String = "complete") -> RunSummary {
        let rounds = result.rounds
        let seconds = rounds.map(\.seconds).sorted()
        let median = seconds.isEmpty ? nil : (seconds[(seconds.count - 1) / 2] + seconds[seconds.count / 2]) / 2
        let last = rounds.last
        return RunSummary(
            scenario: config.name, seed: config.seed, status: status, roundsCompleted: rounds.count,
            roundsApplied: rounds.filter(\.applied).count, finalAccuracy: last?.accuracy, finalLoss: last?.loss,
            accuracyByRound: rounds.map(\.accuracy), lossByRound: rounds.map(\.loss), finalPerClassAccuracy: last?.perClassAccuracy,
            modelSHA256: sha256(result.finalModel), parameterCount: result.finalModel.count, wallSeconds: wallSeconds,
            secondsPerRoundMedian: median, dropouts: result.dropouts, droppedClients: result.droppedClients.map(\.rawValue),
            rejectedMessages: result.rejectedMessages, degradedRounds: rounds.filter { $0.degraded != nil }.map(\.round),
            clients: config.clients.count, clientProcesses: config.clients.processes, connectedProcesses: result.connectedProcesses,
            aggregator: config.defense.aggregator.asValue, attack: attackSummary(result, config: config),
            detection: detectionSummary(result, config: config))
    }
}
