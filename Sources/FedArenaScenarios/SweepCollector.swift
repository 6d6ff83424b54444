import FedArenaCore
import FedArenaReports
import Foundation

/// Builds a sweep's tables from its cells' run folders: `cells.jsonl`, `results.csv` and
/// `table.md`.
///
/// Cell folders are found by the hash in their `cell.json`, not by their path, so folders
/// made anywhere (Slurm array tasks, Kubernetes pods, copied together) are matched to the
/// sweep's cells; a folder whose hash no cell has (an edited axis) is ignored.
public struct SweepCollector: Sendable {
    /// The expanded sweep.
    public var plan: SweepPlan
    /// The folder holding the cell folders, where the tables are written.
    public var directory: String

    /// Creates a collector.
    public init(plan: SweepPlan, directory: String) {
        self.plan = plan
        self.directory = URL(fileURLWithPath: directory).standardizedFileURL.path
    }

    /// One record per cell of the plan, `missing` for cells without a finished or failed
    /// folder; accuracy drops against each cell's attack-off baseline.
    /// - Throws: ``SweepError`` `.output` when the folder cannot be listed, or a cell's
    ///   `cell.json` or `summary.json` is unreadable.
    public func records() throws(SweepError) -> [SweepCellRecord] {
        let folders = try cellFolders()
        var records = [SweepCellRecord]()
        var accuracy = [Int: Double]()
        for cell in plan.cells {
            var record = SweepCellRecord(
                index: cell.index, name: cell.name, hash: cell.hash, role: cell.role.rawValue,
                labels: cell.labels.map { SweepCellRecord.Label(axis: $0.axis, label: $0.label) }, seed: Int(cell.seed),
                attack: cell.config.attack?.kind, baseline: cell.baseline.map { plan.cells[$0].name }, status: .missing)
            let candidates = folders[cell.hash] ?? []
            let chosen = candidates.first { $0.state.status == .done && $0.name == cell.name }
                ?? candidates.first { $0.state.status == .done }
                ?? candidates.first { $0.name == cell.name }
                ?? candidates.first
            if let chosen {
                record.folder = chosen.path.hasPrefix(directory + "/") ? String(chosen.path.dropFirst(directory.count + 1)) : chosen.path
                switch chosen.state.status {
                case .done:
                    let summary = try Self.readSummary(folder: chosen.path)
                    record.status = .done
                    record.metrics = Self.metrics(of: summary)
                    if case .string(let sha)? = summary[path: "model_sha256"] { record.modelSHA256 = sha }
                    if case .array(let values)? = summary[path: "accuracy_by_round"] { record.accuracyByRound = values.map(Self.number) }
                    if let value = record.metric("final_accuracy") { accuracy[cell.index] = value }
                case .failed:
                    record.status = .failed
                    record.error = chosen.state.error
                    record.exitCode = chosen.state.exitCode
                case .running:
                    record.status = .missing
                    record.error = "the run did not finish (the sweep stopped while it ran)"
                }
            }
            records.append(record)
        }
        for position in records.indices {
            guard let baseline = plan.cells[position].baseline, let clean = accuracy[baseline] else { continue }
            records[position].metrics["baseline_final_accuracy"] = clean
            if let attacked = records[position].metric("final_accuracy") {
                records[position].metrics["accuracy_drop"] = clean - attacked
            }
        }
        return records
    }

    /// Writes `cells.jsonl`, `results.csv` and `table.md` into the folder.
    /// - Throws: ``SweepError`` `.output` naming the file.
    public func write(_ records: [SweepCellRecord]) throws(SweepError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var lines = ""
        do {
            for record in records { lines += String(decoding: try encoder.encode(record), as: UTF8.self) + "\n" }
        } catch {
            throw SweepError(.output, "cannot encode cells.jsonl: \(error)")
        }
        try Self.write(lines, to: directory + "/cells.jsonl")
        try Self.write(SweepTable.csv(records), to: directory + "/results.csv")
        try Self.write(SweepTable.markdown(records, title: "Sweep \(plan.file.name)"), to: directory + "/table.md")
    }

    /// A run folder's `summary.json`.
    /// - Throws: ``SweepError`` `.output` when it is missing or not JSON.
    public static func readSummary(folder: String) throws(SweepError) -> ConfigValue {
        let path = folder + "/summary.json"
        do {
            return try JSONDecoder().decode(ConfigValue.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw SweepError(.output, "cannot read \(path): \(error)")
        }
    }

    /// The record metrics of a `summary.json` (the keys of DESIGN.md's contract).
    static func metrics(of summary: ConfigValue) -> [String: Double?] {
        [
            "final_accuracy": number(summary[path: "final_accuracy"]),
            "final_loss": number(summary[path: "final_loss"]),
            "final_asr": number(summary[path: "attack.final_asr"]),
            "detection_tpr": number(summary[path: "detection.tpr"]),
            "detection_fpr": number(summary[path: "detection.fpr"]),
            "detection_precision": number(summary[path: "detection.precision"]),
            "detection_auc": number(summary[path: "detection.auc"]),
            "wall_seconds": number(summary[path: "wall_seconds"]),
            "seconds_per_round_median": number(summary[path: "seconds_per_round_median"]),
            "rounds_completed": number(summary[path: "rounds_completed"]),
            "dropouts": number(summary[path: "dropouts"]),
        ]
    }

    static func number(_ value: ConfigValue?) -> Double? {
        switch value {
        case .double(let number)?: number.isFinite ? number : nil
        case .int(let number)?: Double(number)
        default: nil
        }
    }

    private struct Found {
        var path: String
        var name: String
        var state: SweepCellState
    }

    /// Every sub-folder with a `cell.json`, by hash.
    private func cellFolders() throws(SweepError) -> [String: [Found]] {
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw SweepError(.output, "cannot list the sweep folder \(directory): \(error)")
        }
        var found = [String: [Found]]()
        for entry in entries {
            let path = directory + "/" + entry
            guard let state = try SweepCellState.read(folder: path) else { continue }
            found[state.hash, default: []].append(Found(path: path, name: entry, state: state))
        }
        return found
    }

    private static func write(_ text: String, to path: String) throws(SweepError) {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw SweepError(.output, "cannot write \(path): \(error)")
        }
    }
}
