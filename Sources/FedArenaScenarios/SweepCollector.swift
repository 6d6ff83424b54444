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
                    for (name, value) in Self.metrics(of: summary) { record.metrics[name] = value }
                    record.modelSHA256 = summary.modelSHA256
                    record.accuracyByRound = summary.accuracyByRound
                    if let value = summary.finalAccuracy { accuracy[cell.index] = value }
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
        var lines = ""
        do throws(ReportError) {
            for record in records { lines += try RunRecords.line(record) + "\n" }
        } catch {
            throw SweepError(.output, "cannot encode cells.jsonl: \(error)", cause: error)
        }
        try Self.write(lines, to: directory + "/cells.jsonl")
        try Self.write(SweepTable.csv(records), to: directory + "/results.csv")
        try Self.write(SweepTable.markdown(records, title: "Sweep \(plan.file.name)"), to: directory + "/table.md")
    }

    /// A run folder's `summary.json`.
    /// - Throws: ``SweepError`` `.output` when it is missing or not a run summary.
    public static func readSummary(folder: String) throws(SweepError) -> RunSummary {
        do {
            return try RunRecords.readSummary(in: folder)
        } catch {
            throw SweepError(.output, error.message, cause: error)
        }
    }

    /// The record metrics of a run summary (``SweepCellRecord/metricNames`` but the drop and
    /// the baseline's accuracy, which need the baseline cell).
    static func metrics(of summary: RunSummary) -> [String: Double?] {
        [
            "final_accuracy": summary.finalAccuracy,
            "final_loss": summary.finalLoss,
            "final_asr": summary.attack?.finalASR,
            "detection_tpr": summary.detection?.tpr,
            "detection_fpr": summary.detection?.fpr,
            "detection_precision": summary.detection?.precision,
            "detection_auc": summary.detection?.auc,
            "wall_seconds": finiteOrNil(summary.wallSeconds),
            "seconds_per_round_median": summary.secondsPerRoundMedian,
            "rounds_completed": Double(summary.roundsCompleted),
            "dropouts": Double(summary.dropouts),
        ]
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
