import Foundation

/// One line of a sweep's `cells.jsonl`: a cell's axis labels, its status and its metrics.
///
/// Undefined values are written as `null`, never left out (``Nullable``), so every line has
/// every key; the metrics hold every name of ``metricNames``.
public struct SweepCellRecord: Codable, Sendable, Equatable {
    /// Where a cell stands.
    public enum Status: String, Codable, Sendable, Equatable {
        /// The run finished and its `summary.json` was read.
        case done
        /// The run failed; `error` says why.
        case failed
        /// No run folder for the cell was found (`--collect`), or the sweep stopped first.
        case missing
    }

    /// An axis label of the cell.
    public struct Label: Codable, Sendable, Equatable, Hashable {
        /// The axis key path (`defense.aggregator`).
        public var axis: String
        /// The label of the cell's value on that axis.
        public var label: String

        /// Creates a label.
        public init(axis: String, label: String) {
            self.axis = axis
            self.label = label
        }
    }

    /// The metrics of a line, in `results.csv` column order.
    public static let metricNames = [
        "final_accuracy", "accuracy_drop", "baseline_final_accuracy", "final_asr", "final_loss",
        "detection_tpr", "detection_fpr", "detection_precision", "detection_auc",
        "wall_seconds", "seconds_per_round_median", "rounds_completed", "dropouts",
    ]

    /// The cell's index in the plan (`--cell I`).
    public var index: Int
    /// The run folder's name.
    public var name: String
    /// The SHA-256 of the cell's resolved scenario (its identity).
    public var hash: String
    /// `cell` (an axis combination) or `baseline` (an extra attack-off run).
    public var role: String
    /// The axis labels, in axis order.
    public var labels: [Label]
    /// The scenario's seed.
    public var seed: Int
    /// The attack kind, or `nil` with the attack off.
    @Nullable public var attack: String?
    /// The name of the attack-off cell this cell's accuracy drop is measured against.
    @Nullable public var baseline: String?
    /// Where the cell stands.
    public var status: Status
    /// Why the cell failed.
    @Nullable public var error: String?
    /// The run's exit status when it failed.
    @Nullable public var exitCode: Int?
    /// The run folder, relative to the sweep folder when inside it.
    @Nullable public var folder: String?
    /// Metric name → value (``metricNames``; `null` when undefined for the cell).
    public var metrics: [String: Double?]
    /// The SHA-256 of the final model's parameters.
    @Nullable public var modelSHA256: String?
    /// Test accuracy after each round.
    public var accuracyByRound: [Double?]

    /// Creates a record.
    public init(
        index: Int, name: String, hash: String, role: String, labels: [Label], seed: Int, attack: String?,
        baseline: String?, status: Status, error: String? = nil, exitCode: Int? = nil, folder: String? = nil,
        metrics: [String: Double?] = [:], modelSHA256: String? = nil, accuracyByRound: [Double?] = []
    ) {
        self.index = index
        self.name = name
        self.hash = hash
        self.role = role
        self.labels = labels
        self.seed = seed
        self.attack = attack
        self.baseline = baseline
        self.status = status
        self.error = error
        self.exitCode = exitCode
        self.folder = folder
        var complete = metrics
        for name in Self.metricNames where complete[name] == nil { complete[name] = .some(nil) }
        self.metrics = complete
        self.modelSHA256 = modelSHA256
        self.accuracyByRound = accuracyByRound
    }

    /// The value of metric `name`, if defined.
    public func metric(_ name: String) -> Double? { metrics[name] ?? nil }

    /// The label of axis `axis`, if the cell has it.
    public func label(of axis: String) -> String? { labels.first { $0.axis == axis }?.label }

    enum CodingKeys: String, CodingKey {
        case index, name, hash, role, labels, seed, attack, baseline, status, error
        case exitCode = "exit_code"
        case folder, metrics
        case modelSHA256 = "model_sha256"
        case accuracyByRound = "accuracy_by_round"
    }
}
