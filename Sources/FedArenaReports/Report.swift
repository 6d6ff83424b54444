import FedArenaCore
import Foundation

/// `fedarena report DIR`: a self-contained `report.html` (inline SVG and CSS, no script, no
/// font or file from the network) and one SVG file per chart under `charts/`, for a run
/// folder or a sweep folder.
public enum Report {
    /// What was written.
    public struct Output: Sendable, Equatable {
        /// `run` or `sweep`.
        public var kind: String
        /// The HTML page.
        public var page: String
        /// The SVG files, in page order.
        public var charts: [String]
        /// Run reports written for the cells of a sweep.
        public var cellPages: [String]
    }

    /// Writes the report of a run folder (with `summary.json`) or a sweep folder (with
    /// `cells.jsonl`).
    /// - Parameters:
    ///   - folder: the folder; the report goes inside it.
    ///   - cellReports: for a sweep, also write each finished cell's run report (linked from
    ///     the sweep's cell list).
    /// - Returns: the files written.
    /// - Throws: ``ReportError`` when the folder is neither, a record is malformed, or a file
    ///   cannot be written.
    public static func write(folder: String, cellReports: Bool = false) throws(ReportError) -> Output {
        let manager = FileManager.default
        if manager.fileExists(atPath: folder + "/cells.jsonl") {
            let sweep = try ReportSweep(folder: folder)
            var cellPages = [String]()
            if cellReports {
                for record in sweep.records where record.status == .done {
                    guard let relative = record.folder else { continue }
                    let path = relative.hasPrefix("/") ? relative : folder + "/" + relative
                    cellPages.append(try write(run: ReportRun(folder: path), parentLink: relative.hasPrefix("/") ? nil : "../report.html").page)
                }
            }
            let charts = sweep.charts()
            let files = try writeCharts(charts, folder: folder)
            let page = folder + "/report.html"
            try writeText(sweepPage(sweep, charts: charts), to: page)
            return Output(kind: "sweep", page: page, charts: files, cellPages: cellPages)
        }
        if manager.fileExists(atPath: folder + "/summary.json") {
            return try write(run: ReportRun(folder: folder), parentLink: nil)
        }
        throw ReportError("\(folder) is neither a run folder (summary.json) nor a sweep folder (cells.jsonl)")
    }

    private static func write(run: ReportRun, parentLink: String?) throws(ReportError) -> Output {
        let charts = run.charts()
        let files = try writeCharts(charts, folder: run.folder)
        let page = run.folder + "/report.html"
        try writeText(runPage(run, charts: charts, parentLink: parentLink), to: page)
        return Output(kind: "run", page: page, charts: files, cellPages: [])
    }

    private static func writeCharts(_ charts: [ReportChart], folder: String) throws(ReportError) -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: folder + "/charts", withIntermediateDirectories: true)
        } catch {
            throw ReportError("cannot create \(folder)/charts: \(error.localizedDescription)")
        }
        var files = [String]()
        for chart in charts {
            let path = folder + "/charts/" + chart.fileName
            try writeText("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + chart.svg, to: path)
            files.append(path)
        }
        return files
    }

    private static func writeText(_ text: String, to path: String) throws(ReportError) {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw ReportError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    // MARK: Pages

    static let style = """
        body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; margin: 24px auto; max-width: 1180px; color: #222; padding: 0 16px; }
        h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
        .lead { color: #555; margin-top: 0; }
        figure { margin: 18px 0; display: inline-block; vertical-align: top; margin-right: 18px; }
        figcaption { font-size: 12px; color: #555; max-width: 560px; margin-top: 4px; }
        figcaption a, td a { color: #1f5fa8; }
        table.facts, table.cells { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
        table.facts td, table.facts th, table.cells td, table.cells th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
        table.facts th, table.cells th { background: #f4f4f4; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        td.failed { color: #b00020; } td.missing { color: #777; }
        details summary { cursor: pointer; color: #1f5fa8; }
        pre { background: #f7f7f7; border: 1px solid #e4e4e4; padding: 8px; font-size: 12px; max-width: 760px; overflow-x: auto; }
        svg.chart { display: block; max-width: 100%; height: auto; }
        """

    private static func head(_ title: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(SVGChart.escape(title))</title>
        <link rel="icon" href="data:,">
        <style>
        \(style)
        </style>
        </head>
        <body>

        """
    }

    private static func figure(_ chart: ReportChart) -> String {
        """
        <figure id="figure-\(SVGChart.escape(chart.id))" data-chart="\(SVGChart.escape(chart.id))">
        \(chart.svg)<figcaption><strong>\(SVGChart.escape(chart.title)).</strong> \(SVGChart.escape(chart.caption)) \
        <a href="charts/\(SVGChart.escape(chart.fileName))">SVG</a></figcaption>
        </figure>

        """
    }

    private static func format(_ value: Double?, _ decimals: Int = 4) -> String {
        value.map { String(format: "%.\(decimals)f", $0) } ?? "—"
    }

    static func runPage(_ run: ReportRun, charts: [ReportChart], parentLink: String?) -> String {
        let summary = run.summary
        let name = summary.scenario
        var html = head("FedArena run: \(name)")
        html += "<h1>FedArena run: \(SVGChart.escape(name))</h1>\n"
        if let parentLink { html += "<p class=\"lead\"><a href=\"\(SVGChart.escape(parentLink))\">← the sweep</a></p>\n" }
        var facts: [(String, String)] = [
            ("status", summary.status),
            ("final accuracy", format(summary.finalAccuracy)),
            ("final test loss", format(summary.finalLoss)),
            ("rounds completed", "\(summary.roundsCompleted) (\(summary.roundsApplied) applied)"),
            ("seed", String(summary.seed)),
            ("aggregator", describe(summary.aggregator)),
            ("clients", "\(summary.clients) in \(summary.clientProcesses) processes"),
            ("wall seconds", format(summary.wallSeconds, 1)),
            ("median seconds per round", format(summary.secondsPerRoundMedian, 3)),
            ("dropouts", String(summary.dropouts)),
        ]
        if let attack = summary.attack {
            facts.append(("attack", describe(attack.spec)))
            facts.append(("malicious clients", attack.maliciousClients.sorted().map(String.init).joined(separator: ", ")))
            facts.append(("final ASR", format(attack.finalASR)))
            facts.append(("accuracy drop vs attack off", format(attack.accuracyDrop)))
        }
        if let detection = summary.detection {
            facts.append(("detection TPR / FPR", "\(format(detection.tpr, 3)) / \(format(detection.fpr, 3))"))
            facts.append(("detection precision / AUC", "\(format(detection.precision, 3)) / \(format(detection.auc, 3))"))
            facts.append(("detection rates count", detection.counted))
        }
        facts.append(("model SHA-256", summary.modelSHA256))
        html += "<table class=\"facts\">\n" + facts.map { "<tr><th>\(SVGChart.escape($0.0))</th><td>\(SVGChart.escape($0.1))</td></tr>" }.joined(separator: "\n") + "\n</table>\n"
        html += "<h2>Charts</h2>\n"
        for chart in charts { html += figure(chart) }
        if let yaml = run.scenarioYAML {
            html += "<h2>Scenario</h2>\n<details><summary>scenario.yaml (resolved)</summary><pre>\(SVGChart.escape(yaml))</pre></details>\n"
        }
        html += "</body>\n</html>\n"
        return html
    }

    static func sweepPage(_ sweep: ReportSweep, charts: [ReportChart]) -> String {
        var html = head("FedArena sweep: \(sweep.name)")
        let cells = sweep.records.filter { $0.role == "cell" }
        let done = cells.filter { $0.status == .done }.count
        let failed = cells.filter { $0.status == .failed }.count
        html += "<h1>FedArena sweep: \(SVGChart.escape(sweep.name))</h1>\n"
        html += "<p class=\"lead\">\(done) of \(cells.count) cells done, \(failed) failed"
        let baselines = sweep.records.count - cells.count
        if baselines > 0 { html += ", plus \(baselines) attack-off baselines" }
        html += ". Axes: \(SVGChart.escape(SweepTable.axisNames(sweep.records).joined(separator: " × "))). "
        html += "Tables: <a href=\"table.md\">table.md</a>, <a href=\"results.csv\">results.csv</a>, <a href=\"cells.jsonl\">cells.jsonl</a>.</p>\n"
        let matrices = charts.filter { $0.id.hasPrefix("chart-matrix-") }
        let curves = charts.filter { !$0.id.hasPrefix("chart-matrix-") }
        if !matrices.isEmpty {
            html += "<h2>Matrices</h2>\n"
            for chart in matrices { html += figure(chart) }
        }
        if !curves.isEmpty {
            html += "<h2>Accuracy curves over seeds</h2>\n"
            for chart in curves { html += figure(chart) }
        }
        html += "<h2>Cells</h2>\n<table class=\"cells\" id=\"cells\">\n<tr><th>#</th>"
        let axes = SweepTable.axisNames(sweep.records)
        for axis in axes { html += "<th>\(SVGChart.escape(axis))</th>" }
        html += "<th>status</th><th>final accuracy</th><th>accuracy drop</th><th>ASR</th><th>run</th><th>scenario</th></tr>\n"
        for record in sweep.records {
            html += "<tr id=\"cell-\(record.index)\"><td class=\"num\">\(record.index)\(record.role == "baseline" ? " (baseline)" : "")</td>"
            for axis in axes { html += "<td>\(SVGChart.escape(record.label(of: axis) ?? (axis.hasPrefix("attack") ? "off" : "")))</td>" }
            let status = record.status.rawValue
            let detail = record.error.map { ": " + $0 } ?? ""
            html += "<td class=\"\(status)\">\(SVGChart.escape(status + detail))</td>"
            html += "<td class=\"num\">\(format(record.metric("final_accuracy")))</td>"
            html += "<td class=\"num\">\(format(record.metric("accuracy_drop")))</td>"
            html += "<td class=\"num\">\(format(record.metric("final_asr")))</td>"
            if let folder = record.folder, !folder.hasPrefix("/") {
                let page = sweep.folder + "/" + folder + "/report.html"
                let link = FileManager.default.fileExists(atPath: page) ? "<a href=\"\(SVGChart.escape(folder))/report.html\">report</a> · " : ""
                html += "<td>\(link)<a href=\"\(SVGChart.escape(folder))/\">folder</a></td>"
            } else {
                html += "<td>—</td>"
            }
            if let yaml = sweep.scenario(of: record) {
                html += "<td><details><summary>\(SVGChart.escape(record.name))</summary><pre>\(SVGChart.escape(yaml))</pre></details></td>"
            } else {
                html += "<td>\(SVGChart.escape(record.name))</td>"
            }
            html += "</tr>\n"
        }
        html += "</table>\n</body>\n</html>\n"
        return html
    }

    /// A component value in one line: `multi-krum (f: 2)`.
    static func describe(_ value: ConfigValue) -> String {
        guard case .object(var object) = value else {
            if case .string(let text) = value { return text }
            return value.description
        }
        let kind = ReportRun.string(object.removeValue(forKey: "kind")) ?? ""
        let options = object.keys.sorted().map { "\($0): \(object[$0]!)" }.joined(separator: ", ")
        return options.isEmpty ? kind : "\(kind) (\(options))"
    }
}
