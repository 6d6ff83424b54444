import Foundation

/// The tables of a sweep: `results.csv` (one row per cell, every metric a column) and
/// `table.md` (per combination of the axes other than `seed`: mean ± std and a 95% Student-t
/// confidence interval over the seeds).
public enum SweepTable {
    /// A column of `table.md`: a metric and how to print it.
    public struct Column: Sendable, Equatable {
        /// The metric name in ``SweepCellRecord/metrics``.
        public var metric: String
        /// The column heading.
        public var title: String
        /// Decimal places.
        public var decimals: Int
    }

    /// The metrics of `table.md`, in column order.
    public static let columns = [
        Column(metric: "final_accuracy", title: "final accuracy", decimals: 4),
        Column(metric: "accuracy_drop", title: "accuracy drop", decimals: 4),
        Column(metric: "final_asr", title: "ASR", decimals: 4),
        Column(metric: "detection_tpr", title: "detection TPR", decimals: 3),
        Column(metric: "detection_fpr", title: "detection FPR", decimals: 3),
        Column(metric: "detection_auc", title: "detection AUC", decimals: 3),
        Column(metric: "wall_seconds", title: "seconds", decimals: 1),
    ]

    /// The axis that holds repetitions: its cells are summarised together.
    public static let seedAxis = "seed"

    /// A group of cells that differ only in their seed.
    public struct Group: Sendable, Equatable {
        /// The labels of the non-seed axes.
        public var labels: [SweepCellRecord.Label]
        /// The cells, in plan order.
        public var cells: [SweepCellRecord]
        /// The cells that finished.
        public var done: [SweepCellRecord] { cells.filter { $0.status == .done } }

        /// The statistics of `metric` over the group's finished cells, or `nil` when no cell
        /// defines it.
        public func statistics(_ metric: String) -> SeedStatistics? {
            SeedStatistics(done.compactMap { $0.metric(metric) })
        }
    }

    /// The axis cells (not the extra baselines) grouped by their non-seed labels, in plan order.
    public static func groups(_ records: [SweepCellRecord]) -> [Group] {
        var order = [[SweepCellRecord.Label]]()
        var members = [[SweepCellRecord.Label]: [SweepCellRecord]]()
        for record in records.sorted(by: { $0.index < $1.index }) where record.role == "cell" {
            let key = record.labels.filter { $0.axis != seedAxis }
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(record)
        }
        return order.map { Group(labels: $0, cells: members[$0]!) }
    }

    /// `results.csv`: one row per cell (baselines included), a column per axis named by its key
    /// path (the axis labels), `seed`, `attack_kind`, then every metric; undefined values are
    /// empty (pandas reads NaN).
    public static func csv(_ records: [SweepCellRecord]) -> String {
        // The seed has its own column; an axis over it would repeat it.
        let axes = axisNames(records).filter { $0 != seedAxis }
        let header = ["index", "name", "role", "status"] + axes + ["seed", "attack_kind", "baseline"]
            + SweepCellRecord.metricNames + ["model_sha256", "exit_code", "error", "hash", "folder"]
        let rows = records.sorted { $0.index < $1.index }.map { record -> [String] in
            var row = [String(record.index), record.name, record.role, record.status.rawValue]
            row += axes.map { record.label(of: $0) ?? "" }
            row += [String(record.seed), record.attack ?? "", record.baseline ?? ""]
            row += SweepCellRecord.metricNames.map { record.metric($0).map(csvNumber) ?? "" }
            row += [record.modelSHA256 ?? "", record.exitCode.map(String.init) ?? "", record.error ?? "", record.hash, record.folder ?? ""]
            return row
        }
        return Table(header: header, rows: rows).csv()
    }

    /// `table.md`: a title, one row per group (non-seed axis labels, seeds done, then each of
    /// ``columns`` as `mean ± std [CI low, CI high]`), and a note on the statistics.
    public static func markdown(_ records: [SweepCellRecord], title: String) -> String {
        let groups = groups(records)
        let axes = axisNames(records).filter { $0 != seedAxis }
        var header = axes
        header.append("seeds")
        header += columns.map(\.title)
        let rows = groups.map { group -> [String] in
            var row = axes.map { axis in group.labels.first { $0.axis == axis }?.label ?? "" }
            let failed = group.cells.filter { $0.status == .failed }.count
            let missing = group.cells.filter { $0.status == .missing }.count
            var seeds = "\(group.done.count)"
            if failed > 0 { seeds += " (\(failed) failed)" }
            if missing > 0 { seeds += " (\(missing) missing)" }
            row.append(seeds)
            row += columns.map { column in format(group.statistics(column.metric), decimals: column.decimals) }
            return row
        }
        let table = Table(header: header, rows: rows, rightAligned: Set(axes.count..<header.count))
        let cells = records.filter { $0.role == "cell" }
        let done = cells.filter { $0.status == .done }.count
        return """
            # \(title)

            \(done) of \(cells.count) cells done\(records.count > cells.count ? ", plus \(records.count - cells.count) attack-off baselines" : "").

            \(table.markdown())
            Each entry is mean ± standard deviation over the seeds, then the 95% confidence interval of \
            the mean (Student t, n − 1 degrees of freedom) in brackets; one seed gives the value alone, \
            — means undefined (no attack, no detector, or no finished cell). Accuracy drop is the \
            attack-off run's final accuracy minus the cell's, same scenario and seed. ASR is defined \
            for targeted attacks (backdoor, targeted flip). Detection rates count client-rounds in \
            which an attacker attacked. Seconds are each run's wall time.

            """
    }

    /// `mean ± std [low, high]`, the mean alone for one value, `—` for none.
    public static func format(_ statistics: SeedStatistics?, decimals: Int) -> String {
        guard let statistics else { return "—" }
        let number = { (value: Double) in String(format: "%.\(decimals)f", value) }
        guard let deviation = statistics.standardDeviation, let interval = statistics.interval else {
            return number(statistics.mean)
        }
        return "\(number(statistics.mean)) ± \(number(deviation)) [\(number(interval.lowerBound)), \(number(interval.upperBound))]"
    }

    /// The axis key paths of the records, in the order of the first record that has each.
    public static func axisNames(_ records: [SweepCellRecord]) -> [String] {
        var names = [String]()
        for record in records.sorted(by: { $0.index < $1.index }) {
            for label in record.labels where !names.contains(label.axis) { names.append(label.axis) }
        }
        return names
    }

    private static func csvNumber(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
    }
}
