import ArgumentParser
import FedArenaReports
import Foundation

/// `fedarena report DIR`: a self-contained HTML report of a run or a sweep folder.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write report.html (inline SVG, opens from disk) and one SVG per chart for a run or sweep folder.",
        discussion: """
            A run folder gets accuracy and loss per round, ASR per round, per-class accuracy, per-client
            suspicion with the true roles, the detection ROC and the aggregation weights of malicious vs
            honest clients. A sweep folder gets the attack x defense matrices (one per metric), accuracy
            curves with a band over seeds, and every cell's scenario. Charts also go to DIR/charts/*.svg.
            """)

    @Argument(help: "A run folder (with summary.json) or a sweep folder (with cells.jsonl).")
    var folder: String

    @Flag(help: "For a sweep, also write each finished cell's run report, linked from the cell list.")
    var cells = false

    func run() async throws {
        do throws(ReportError) {
            let output = try Report.write(folder: folder, cellReports: cells)
            var line = "\(output.kind) report: \(output.page) (\(output.charts.count) charts in \(folder)/charts/)"
            if !output.cellPages.isEmpty { line += "; \(output.cellPages.count) cell reports" }
            print(line)
        } catch {
            printError("fedarena report: \(error)")
            throw ExitCode(1)
        }
    }
}
