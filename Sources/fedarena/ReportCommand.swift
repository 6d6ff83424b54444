import ArgumentParser
import FedArenaReports
import Foundation

/// `fedarena report DIR`: a self-contained HTML report of a run or a sweep folder.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write report.html (inline SVG, opens from disk) and one SVG per chart for a run or sweep folder.")

    @Argument(help: "A run folder (with summary.json) or a sweep folder (with cells.jsonl).")
    var folder: String

    func run() async throws {
        printError("fedarena report: not built yet")
        throw ExitCode(1)
    }
}
