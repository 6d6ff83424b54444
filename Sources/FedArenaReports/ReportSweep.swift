import FedArenaCore
import Foundation

/// A sweep folder read for its report: `cells.jsonl` (``SweepCellRecord`` lines) and each
/// cell's `scenario.yaml`.
public struct ReportSweep: Sendable {
    /// The sweep folder.
    public var folder: String
    /// The sweep's name (`sweep.json`, or the folder's name).
    public var name: String
    /// The cells, in plan order.
    public var records: [SweepCellRecord]

    /// Reads a sweep folder.
    /// - Parameter folder: a folder with `cells.jsonl`.
    /// - Throws: ``ReportError`` naming the file that is missing or malformed.
    public init(folder: String) throws(ReportError) {
        self.folder = folder
        let path = folder + "/cells.jsonl"
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ReportError("cannot read \(path): \(error.localizedDescription)")
        }
        var records = [SweepCellRecord]()
        for (number, line) in text.split(separator: "\n").enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            do {
                records.append(try JSONDecoder().decode(SweepCellRecord.self, from: Data(line.utf8)))
            } catch {
                throw ReportError("\(path): line \(number + 1) is not a cell record: \(error)")
            }
        }
        self.records = records.sorted { $0.index < $1.index }
        let manifest = try? ReportRun.json(at: folder + "/sweep.json")
        name = ReportRun.string(manifest?[path: "name"]) ?? URL(fileURLWithPath: folder).lastPathComponent
    }

    /// The axes other than the seed, in axis order: the first gives the matrix rows, the second
    /// its columns, any others one matrix per combination of their labels.
    public var axes: [String] { SweepTable.axisNames(records).filter { $0 != SweepTable.seedAxis } }

    /// A metric drawn as a matrix.
    struct MatrixMetric {
        var metric: String
        var title: String
        var decimals: Int
        /// High is bad: drawn dark.
        var reversed: Bool
        var domain: ClosedRange<Double>?
    }

    static let matrixMetrics = [
        MatrixMetric(metric: "final_accuracy", title: "final accuracy", decimals: 3, reversed: false, domain: 0...1),
        MatrixMetric(metric: "accuracy_drop", title: "accuracy drop vs attack off", decimals: 3, reversed: true, domain: nil),
        MatrixMetric(metric: "final_asr", title: "attack success rate", decimals: 3, reversed: true, domain: 0...1),
        MatrixMetric(metric: "detection_tpr", title: "detection TPR", decimals: 2, reversed: false, domain: 0...1),
        MatrixMetric(metric: "detection_fpr", title: "detection FPR", decimals: 2, reversed: true, domain: 0...1),
        MatrixMetric(metric: "detection_auc", title: "detection AUC", decimals: 2, reversed: false, domain: 0...1),
        MatrixMetric(metric: "wall_seconds", title: "seconds per run", decimals: 1, reversed: true, domain: nil),
    ]

    /// The matrices (one per metric with a defined value, and per combination of the third
    /// and later axes) and the accuracy curves (one per column label), in page order.
    public func charts() -> [ReportChart] {
        let groups = SweepTable.groups(records)
        let axes = self.axes
        let rowAxis = axes.first
        let columnAxis = axes.count > 1 ? axes[1] : nil
        let restAxes = Array(axes.dropFirst(2))
        func labels(_ axis: String?) -> [String] {
            guard let axis else { return [""] }
            var seen = [String]()
            for group in groups {
                if let label = group.labels.first(where: { $0.axis == axis })?.label, !seen.contains(label) { seen.append(label) }
            }
            return seen
        }
        func label(_ group: SweepTable.Group, _ axis: String?) -> String {
            guard let axis else { return "" }
            return group.labels.first { $0.axis == axis }?.label ?? ""
        }
        let rows = labels(rowAxis)
        let columns = labels(columnAxis)
        var slices = [[SweepCellRecord.Label]]()
        for group in groups {
            let rest = group.labels.filter { restAxes.contains($0.axis) }
            if !slices.contains(rest) { slices.append(rest) }
        }
        if slices.isEmpty { slices = [[]] }

        var charts = [ReportChart]()
        for metric in Self.matrixMetrics {
            for (sliceIndex, slice) in slices.enumerated() {
                let members = groups.filter { group in slice.allSatisfy { group.labels.contains($0) } }
                let grid = rows.map { row in
                    columns.map { column -> Double? in
                        members.first { label($0, rowAxis) == row && label($0, columnAxis) == column }?.statistics(metric.metric)?.mean
                    }
                }
                guard grid.contains(where: { $0.contains { $0 != nil } }) else { continue }
                let suffix = slice.isEmpty ? "" : " (" + slice.map { "\($0.axis) = \($0.label)" }.joined(separator: ", ") + ")"
                let id = "chart-matrix-\(Self.slug(metric.metric))" + (slices.count > 1 ? "-\(sliceIndex + 1)" : "")
                charts.append(ReportChart(
                    id: id, title: "Matrix: \(metric.title)\(suffix)",
                    caption: "Mean over the seeds of each cell's \(metric.title); rows are \(rowAxis ?? "the cells")"
                        + (columnAxis.map { ", columns \($0). " } ?? ". ")
                        + (metric.reversed ? "Dark is high (worse)." : "Bright is high (better)."),
                    svg: SVGHeatmap(
                        id: id, title: "\(name): \(metric.title)\(suffix)", xLabel: columnAxis ?? "", yLabel: rowAxis ?? "",
                        rowLabels: rows, columnLabels: columns.map { $0.isEmpty ? "value" : $0 }, values: grid,
                        domain: metric.domain, showValues: true, decimals: metric.decimals, reversed: metric.reversed
                    ).render()))
            }
        }
        // Accuracy curves: one chart per column label (and slice), a line per row label, the
        // band mean ± one standard deviation over the seeds.
        var chartNumber = 0
        for slice in slices {
            for column in columns {
                let members = groups.filter { group in
                    label(group, columnAxis) == column && slice.allSatisfy { group.labels.contains($0) }
                }
                var series = [SVGLineChart.Series]()
                for (rowIndex, row) in rows.enumerated() {
                    guard let group = members.first(where: { label($0, rowAxis) == row }) else { continue }
                    let curves = group.done.map(\.accuracyByRound)
                    let length = curves.map(\.count).max() ?? 0
                    guard length > 0 else { continue }
                    var mean = [Double?]()
                    var band = [ClosedRange<Double>?]()
                    for round in 0..<length {
                        let values = curves.compactMap { round < $0.count ? $0[round] : nil }
                        let statistics = SeedStatistics(values)
                        mean.append(statistics?.mean)
                        if let statistics, let deviation = statistics.standardDeviation {
                            band.append((statistics.mean - deviation)...(statistics.mean + deviation))
                        } else {
                            band.append(nil)
                        }
                    }
                    series.append(.init(
                        name: row.isEmpty ? "accuracy" : row, x: (1...length).map(Double.init), y: mean,
                        band: band.contains { $0 != nil } ? band : nil, color: SVGChart.color(rowIndex)))
                }
                guard !series.isEmpty else { continue }
                chartNumber += 1
                let what = ([columnAxis.map { "\($0) = \(column)" }] + slice.map { "\($0.axis) = \($0.label)" }).compactMap { $0 }.joined(separator: ", ")
                let id = "chart-curves-\(chartNumber)"
                charts.append(ReportChart(
                    id: id, title: "Accuracy per round" + (what.isEmpty ? "" : ": \(what)"),
                    caption: "Mean test accuracy over the seeds per \(rowAxis ?? "cell"); the band is ± one standard deviation over the seeds.",
                    svg: SVGLineChart(
                        id: id, title: "\(name): accuracy" + (what.isEmpty ? "" : " (\(what))"), xLabel: "round", yLabel: "test accuracy",
                        series: series, yDomain: 0...1, width: 560, height: 320
                    ).render()))
            }
        }
        return charts
    }

    /// The cell's resolved scenario, from its run folder.
    public func scenario(of record: SweepCellRecord) -> String? {
        guard let folder = record.folder else { return nil }
        let base = folder.hasPrefix("/") ? folder : self.folder + "/" + folder
        return (try? String(contentsOfFile: base + "/scenario.yaml", encoding: .utf8))
            ?? (try? String(contentsOfFile: base + "/cell.yaml", encoding: .utf8))
    }

    /// `text` as an id fragment: lower-case letters, digits and `-`.
    static func slug(_ text: String) -> String {
        String(text.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
    }
}
