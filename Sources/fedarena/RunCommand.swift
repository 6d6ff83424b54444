import ArgumentParser
import FedArenaCore
import FedArenaReports
import FedArenaRuntime
import FedArenaScenarios
import Foundation

/// `fedarena run FILE`: one coordinator (this process) and the scenario's client processes.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a scenario locally: this process coordinates, client processes train over ZeroMQ.")

    @OptionGroup var scenario: ScenarioOptions

    @Option(help: "The run folder (default: runs/NAME-TIMESTAMP).")
    var out: String?

    func run() async throws {
        let config = try scenario.load()
        let folder = out ?? RunFolder.defaultPath(name: config.name)
        let launcher = LocalLauncher(config: config, outputDirectory: folder, executable: currentExecutable())
        printError("fedarena: \(config.name): \(config.clients.count) clients in \(config.clients.processes) processes, \(config.training.rounds) rounds, \(config.model), aggregator \(config.defense.aggregator.kind); output in \(folder)")
        do {
            let summary = try await launcher.run()
            print(RunFolder.describe(summary, folder: folder))
        } catch {
            printError("fedarena run failed: \(error)")
            throw ExitCode(1)
        }
    }
}

/// Naming and describing run folders.
enum RunFolder {
    /// `runs/NAME-YYYYmmdd-HHMMSS`.
    static func defaultPath(name: String) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        let safe = name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" }
        return "runs/\(String(safe))-\(formatter.string(from: Date()))"
    }

    /// The closing lines of a run.
    static func describe(_ summary: ConfigValue, folder: String) -> String {
        func number(_ key: String) -> String {
            switch summary[path: key] {
            case .double(let value)?: String(format: "%.4f", value)
            case .int(let value)?: String(value)
            default: "null"
            }
        }
        return """
            final accuracy \(number("final_accuracy")), loss \(number("final_loss")), \
            \(number("rounds_completed")) rounds, median \(number("seconds_per_round_median")) s/round, \
            wall \(number("wall_seconds")) s, dropouts \(number("dropouts"))
            model_sha256 \(summary[path: "model_sha256"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "null")
            results in \(folder)/ (summary.json, metrics.jsonl, model-final.npy)
            """
    }
}
